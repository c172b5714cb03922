// Step 2: OS packages of the base's own distribution, searched in the catalog of its variant
// (GET /v1/orgs/{org}/packages?source=…&q=…). Until a worker has learned the variant (from a
// first build from the image) the API answers 404 `not_indexed`: the step says so and names
// typed by hand are taken anyway.
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, describe, ok } from '../../api/client';
import { Combobox } from '../../components/Combobox';
import type { Found } from '../../components/Combobox';
import { FieldErrors, Sr } from '../../components/Field';
import { Notice } from '../../components/Notice';
import { org } from '../../session';
import { fieldId, sourceOf, update, useDraft } from '../../state/draft';

type Catalog = { kind: 'unknown' } | { kind: 'ready'; variant: string; arch: string; packages: number } | { kind: 'not_indexed'; message: string } | { kind: 'error'; message: string };

const LIMIT = 20;

export function StepPackages() {
  const d = useDraft();
  const source = sourceOf(d);
  const [catalog, setCatalog] = useState<Catalog>({ kind: 'unknown' });
  const platform = d.platforms[0];

  const query = (q: string, limit: number) =>
    ok(api.GET('/v1/orgs/{org}/packages', { params: { path: { org: org() }, query: { source, q: q || undefined, limit, platform } } }));

  // What the catalog is; asked again every few seconds while it is being learned.
  useEffect(() => {
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const probe = async () => {
      try {
        const r = await query('', 1);
        if (live) setCatalog({ kind: 'ready', variant: r.variant, arch: r.arch, packages: r.index.packages });
      } catch (e) {
        if (!live) return;
        if (e instanceof ApiError && e.code === 'not_indexed') {
          setCatalog({ kind: 'not_indexed', message: e.message });
          timer = setTimeout(probe, 3000);
        } else setCatalog({ kind: 'error', message: describe(e) });
      }
    };
    void probe();
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [source, platform]);

  const search = async (q: string): Promise<Found> => {
    try {
      const r = await query(q.trim(), LIMIT);
      const options = r.packages.map((p) => ({ value: p.name, label: `${p.name} ${p.version}`, detail: p.summary }));
      const status =
        r.total === 0
          ? `No package matches “${q}”. Press Enter to add it as typed.`
          : r.total > options.length
            ? `${options.length} of ${r.total} packages shown; type more to narrow.`
            : `${r.total} package${r.total === 1 ? '' : 's'} match.`;
      return { options, status };
    } catch (e) {
      if (e instanceof ApiError && e.code === 'not_indexed')
        return { options: [], status: 'The catalog is not known yet: press Enter or “Add package” to add the name as typed.' };
      return { options: [], status: `Searching failed: ${describe(e)} You can still add names as typed.` };
    }
  };

  const add = (v: string) =>
    update((x) => (x.packages.includes(v) ? x : { ...x, packages: [...x.packages, v] }));
  const remove = (i: number) => update((x) => ({ ...x, packages: x.packages.filter((_, j) => j !== i) }));

  return (
    <>
      <p class="lead">
        Packages of {source}'s own distribution are installed into one layer above it, with their dependencies (as apt or
        apk would, without recommends); what the base has is kept. Optional.
      </p>
      {catalog.kind === 'ready' && (
        <p class="hint">
          Catalog of {catalog.variant} ({catalog.arch}): {catalog.packages} packages.
        </p>
      )}
      {catalog.kind === 'not_indexed' && (
        <Notice tone="warn">
          <p>
            The package catalog of {source} is not known yet: tailor learns an image's distribution when it first builds from
            it, then reads its repositories. You can still type package names (<code>name</code> or <code>name=version</code>)
            and add them; they are checked when the customization is built.
          </p>
        </Notice>
      )}
      {catalog.kind === 'error' && (
        <Notice tone="error">
          <p>The package catalog could not be read: {catalog.message} You can still type package names and add them.</p>
        </Notice>
      )}
      <Combobox
        path="contents.packages"
        label="Search packages"
        hint={
          <>
            Type part of a name or description; choose with the arrow keys and Enter, or type <code>name=version</code> to pin a
            version.
          </>
        }
        addLabel="Add package"
        search={search}
        onChoose={add}
      />
      <h2 id="chosen-packages">Chosen packages</h2>
      {d.packages.length === 0 ? (
        <p class="muted">None yet.</p>
      ) : (
        <ul class="chips" aria-labelledby="chosen-packages">
          {d.packages.map((p, i) => (
            <li key={p} class="chip" id={fieldId(`contents.packages[${i}]`)} tabIndex={-1}>
              <span>{p}</span>
              <button type="button" class="chip-remove" onClick={() => remove(i)}>
                Remove<Sr> package {p}</Sr>
              </button>
              <FieldErrors path={`contents.packages[${i}]`} />
            </li>
          ))}
        </ul>
      )}
    </>
  );
}

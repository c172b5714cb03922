// Step 2: OS packages of the base's own distribution, searched in the catalog of its variant
// (GET /v1/orgs/{org}/packages?source=…&q=…). For an image no build has read, the first
// question has a worker read its OS, then that OS's catalog: meanwhile the API answers 404
// `not_indexed` with Retry-After, and the step asks again (for up to 90 s, then offers to try
// again). An image without a package database (files only) takes no packages: said, and no
// search is offered. When the catalog cannot be read, names typed by hand are taken anyway.
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, describe, ok } from '../../api/client';
import { Combobox } from '../../components/Combobox';
import type { Found } from '../../components/Combobox';
import { FieldErrors, Sr } from '../../components/Field';
import { Notice } from '../../components/Notice';
import { org } from '../../session';
import { platformsOf, useRepositories } from '../../state/catalog';
import { fieldId, sourceOf, update, useDraft } from '../../state/draft';

type Catalog =
  | { kind: 'loading' }
  | { kind: 'reading' }
  | { kind: 'slow'; message: string }
  | { kind: 'ready'; variant: string; arch: string; packages: number }
  | { kind: 'none'; message: string }
  | { kind: 'error'; message: string };

const LIMIT = 20;
/** How long a catalog being read is waited for before the step offers to try again. */
const WAIT_MS = 90_000;

function listPackages(source: string, platform: string | undefined, q: string, limit: number) {
  return ok(api.GET('/v1/orgs/{org}/packages', { params: { path: { org: org() }, query: { source, q: q || undefined, limit, platform } } }));
}

/** What the source's catalog is, asked again (after the API's Retry-After) while a worker reads
 * it; the second value starts over. */
function useCatalog(source: string, platform: string | undefined): [Catalog, () => void] {
  const [catalog, setCatalog] = useState<Catalog>({ kind: 'loading' });
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const end = Date.now() + WAIT_MS;
    const probe = async () => {
      try {
        const r = await listPackages(source, platform, '', 1);
        if (live) setCatalog({ kind: 'ready', variant: r.variant, arch: r.arch, packages: r.index.packages });
      } catch (e) {
        if (!live) return;
        if (e instanceof ApiError && e.status === 404 && e.code === 'not_indexed') {
          if (Date.now() >= end) {
            setCatalog({ kind: 'slow', message: e.message });
            return;
          }
          setCatalog((c) => (c.kind === 'reading' ? c : { kind: 'reading' }));
          timer = setTimeout(probe, Math.min(Math.max(e.retryAfter ?? 1, 0.5), 10) * 1000);
        } else if (e instanceof ApiError && e.code === 'no_package_database') setCatalog({ kind: 'none', message: e.message });
        else setCatalog({ kind: 'error', message: describe(e) });
      }
    };
    setCatalog({ kind: 'loading' });
    void probe();
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [source, platform, attempt]);
  return [catalog, () => setAttempt((n) => n + 1)];
}

/** The API's message as a sentence (it ends with a full stop). */
function sentence(m: string): string {
  return /[.!?]$/.test(m.trim()) ? m.trim() : m.trim() + '.';
}

/** What is said about the catalog (in the step's live region). */
function Said({ catalog, source }: { catalog: Catalog; source: string }) {
  switch (catalog.kind) {
    case 'loading':
    case 'reading':
      return <p class="muted">Reading the packages of {source}…</p>;
    case 'ready':
      return (
        <p class="hint">
          Catalog of {catalog.variant} ({catalog.arch}): {catalog.packages} packages.
        </p>
      );
    case 'none':
      return (
        <Notice tone="warn">
          <p>
            <strong>{source} has no package database, so packages cannot be added to it.</strong> tailor installs packages
            into images that have the dpkg or apk database of a Debian or Alpine release, and this one has none on any platform.
          </p>
          <p>Files (scripts included) and artifacts can still be added: go on with Next.</p>
        </Notice>
      );
    case 'slow':
      return (
        <Notice tone="warn">
          <p>
            The packages of {source} are still being read after {WAIT_MS / 1000} seconds: {sentence(catalog.message)} Try again, or type
            package names (<code>name</code> or <code>name=version</code>) and add them: they are checked when the customization
            is built.
          </p>
        </Notice>
      );
    case 'error':
      return (
        <Notice tone="error">
          <p>The package catalog could not be read: {sentence(catalog.message)} You can still type package names and add them.</p>
        </Notice>
      );
  }
}

export function StepPackages() {
  const d = useDraft();
  const source = sourceOf(d);
  const repos = useRepositories();
  // The platform of the build's first choice, when the source has it (else the API picks).
  const platform = platformsOf(repos.data, d.repository, d.tag)?.includes(d.platforms[0]) ? d.platforms[0] : undefined;
  const [catalog, retry] = useCatalog(source, platform);
  const searchable = catalog.kind === 'ready' || catalog.kind === 'slow' || catalog.kind === 'error';

  const search = async (q: string): Promise<Found> => {
    try {
      const r = await listPackages(source, platform, q.trim(), LIMIT);
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
        return { options: [], status: 'The catalog is not read yet: press Enter or “Add package” to add the name as typed.' };
      return { options: [], status: `Searching failed: ${sentence(describe(e))} You can still add names as typed.` };
    }
  };

  const add = (v: string) =>
    update((x) => (x.packages.includes(v) ? x : { ...x, packages: [...x.packages, v] }));
  const remove = (i: number) => update((x) => ({ ...x, packages: x.packages.filter((_, j) => j !== i) }));

  return (
    <>
      <p class="lead">
        {catalog.kind === 'none' ? 'OS packages' : `Packages of ${source}'s own distribution`} are installed into one layer
        above the image, with their dependencies (as apt or apk would, without recommends); what the base has is kept.
        Optional.
      </p>
      <div role="status" class="live">
        <Said catalog={catalog} source={source} />
      </div>
      {catalog.kind === 'reading' && (
        <p class="hint">A worker reads the image's OS, then its package catalog, when first asked: this takes a few seconds.</p>
      )}
      {(catalog.kind === 'slow' || catalog.kind === 'error') && (
        <p>
          <button type="button" class="secondary" onClick={retry}>
            Try again
          </button>
        </p>
      )}
      {searchable && (
        <Combobox
          path="contents.packages"
          label="Search packages"
          hint={
            <>
              Type part of a name or description; choose with the arrow keys and Enter, or type <code>name=version</code> to pin
              a version.
            </>
          }
          addLabel="Add package"
          search={search}
          onChoose={add}
        />
      )}
      {(catalog.kind !== 'none' || d.packages.length > 0) && <h2 id="chosen-packages">Chosen packages</h2>}
      {catalog.kind === 'none' && d.packages.length > 0 && (
        <p class="error-text" id={fieldId('contents.packages')} tabIndex={-1}>
          {source} cannot take these: remove them.
        </p>
      )}
      {d.packages.length === 0 ? (
        catalog.kind !== 'none' && <p class="muted">None yet.</p>
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
      {!searchable && <FieldErrors path="contents.packages" />}
    </>
  );
}

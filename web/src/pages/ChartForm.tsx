// Creates or edits a chart customization: its reference mapping is offered the image
// references found in a version of the chart (GET …/repositories/{name}/tags/{tag}/references,
// 404 `not_indexed` while a worker reads them) as `from`s. What is typed is kept for the tab
// (state/chartDraft.ts) until it is submitted.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError, describe, ok } from '../api/client';
import type { ChartCustomization, ChartSpec, Detail } from '../api/client';
import { ErrorSummary } from '../components/ErrorSummary';
import { Errors, FieldErrors, SelectField, Sr, TextField } from '../components/Field';
import { Failure, Loading, Notice } from '../components/Notice';
import { useAsync } from '../lib/useAsync';
import { navigate } from '../router';
import { org } from '../session';
import { tagsOf, useRepositories } from '../state/catalog';
import { chartDraftOf, clearChartDraft, loadChartDraft, saveChartDraft } from '../state/chartDraft';
import type { ChartDraft, Mapping } from '../state/chartDraft';
import { fieldId, parseReference } from '../state/draft';
import { flash } from '../state/flash';

interface Found {
  references: { reference: string; file: string; line: number; path: string }[];
  literal: { reference: string; file: string; line: number }[];
}

/** The image references of one chart version; `reading` while the worker reads them. */
function useReferences(repository: string, tag: string) {
  const [state, setState] = useState<{ kind: 'idle' | 'loading' | 'reading' } | { kind: 'error'; message: string } | { kind: 'ready'; found: Found }>({ kind: 'idle' });
  useEffect(() => {
    if (!repository || !tag) {
      setState({ kind: 'idle' });
      return;
    }
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const name = repository.startsWith(org() + '/') ? repository.slice(org().length + 1) : repository;
    const load = async () => {
      try {
        const r = await ok(api.GET('/v1/orgs/{org}/repositories/{name}/tags/{tag}/references', { params: { path: { org: org(), name, tag } } }));
        if (live) setState({ kind: 'ready', found: { references: r.references, literal: r.literal_template_images } });
      } catch (e) {
        if (!live) return;
        if (e instanceof ApiError && e.status === 404 && e.code === 'not_indexed') {
          setState({ kind: 'reading' });
          timer = setTimeout(load, 1000);
        } else setState({ kind: 'error', message: describe(e) });
      }
    };
    setState({ kind: 'loading' });
    void load();
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [repository, tag]);
  return state;
}

export function ChartForm({ id }: { id: string | null }) {
  const existing = useAsync<ChartCustomization | null>(
    () => (id ? ok(api.GET('/v1/orgs/{org}/chart-customizations/{id}', { params: { path: { org: org(), id } } })) : Promise.resolve(null)),
    [id],
  );
  useEffect(() => {
    document.title = `${id ? 'Edit chart customization' : 'New chart customization'} — tailor`;
  }, [id]);
  if (existing.error) return <Failure error={existing.error} retry={existing.reload} what="The chart customization could not be loaded" />;
  if (existing.loading && existing.data === undefined) return <Loading what="the chart customization" />;
  return <ChartFormBody key={existing.data?.id ?? 'new'} existing={existing.data ?? null} />;
}

function ChartFormBody({ existing }: { existing: ChartCustomization | null }) {
  const repos = useRepositories();
  const [f, setF] = useState(() => loadChartDraft(existing));
  const touched = useRef(false);
  /** Applies a change the person made, kept for the tab at once (a reload right after typing
   * must not lose it: an effect would run only after the next paint). */
  const change = (g: (d: ChartDraft) => ChartDraft) => {
    touched.current = true;
    setF((d) => {
      const next = g(d);
      saveChartDraft(next);
      return next;
    });
  };
  const set = (patch: Partial<ChartDraft>) => change((d) => ({ ...d, ...patch }));
  const { name, source, versions, suffix, destination, strict, rows, refVersion } = f;
  const [errors, setErrors] = useState<Detail[]>([]);
  const [failure, setFailure] = useState('');
  const [busy, setBusy] = useState(false);
  const tags = tagsOf(repos.data, source);
  const version = refVersion || tags[0]?.tag || '';
  const refs = useReferences(source, version);

  const add = (from = '', to = '') => change((d) => ({ ...d, seq: d.seq + 1, rows: [...d.rows, { key: d.seq, from, to }] }));
  const edit = (i: number, patch: Partial<Mapping>) => change((d) => ({ ...d, rows: d.rows.map((m, j) => (j === i ? { ...m, ...patch } : m)) }));
  const setRows = (g: (rows: Mapping[]) => Mapping[]) => change((d) => ({ ...d, rows: g(d.rows) }));
  const startOver = () => {
    clearChartDraft();
    touched.current = false;
    setF(chartDraftOf(existing));
    setErrors([]);
    setFailure('');
  };

  const submit = async (e: Event) => {
    e.preventDefault();
    const spec: ChartSpec = {
      name: name.trim(),
      source: source.trim(),
      tag_suffix: suffix.trim(),
      reference_mapping: rows.filter((r) => r.from.trim() || r.to.trim()).map((r) => ({ from: r.from.trim(), to: r.to.trim() })),
      strict,
    };
    const v = versions.split(/[\s,]+/).filter(Boolean);
    if (v.length) spec.versions = v;
    if (destination.trim()) spec.destination = destination.trim();
    setRows((r) => r.filter((x) => x.from.trim() || x.to.trim()));
    setBusy(true);
    setErrors([]);
    setFailure('');
    try {
      const c = existing
        ? await ok(
            api.PUT('/v1/orgs/{org}/chart-customizations/{id}', {
              params: { path: { org: org(), id: existing.id }, header: { 'If-Match': `"${existing.revision}"` } },
              body: spec,
            }),
          )
        : await ok(api.POST('/v1/orgs/{org}/chart-customizations', { params: { path: { org: org() } }, body: spec }));
      clearChartDraft();
      touched.current = false;
      flash.set(existing ? `Saved ${c.name} as revision ${c.revision}.` : `Created ${c.name}; its first build is queued.`);
      navigate(`/charts/${encodeURIComponent(c.id)}`);
    } catch (err) {
      if (err instanceof ApiError && err.details.length && (err.status === 422 || err.status === 400)) setErrors(err.details);
      else setFailure(describe(err));
    } finally {
      setBusy(false);
    }
  };

  const chartRepos = (repos.data ?? []).filter((r) => r.tags.length);
  const targets = (repos.data ?? []).flatMap((r) => [r.repository, ...r.tags.map((t) => `${r.repository}:${t.tag}`)]);
  const found = refs.kind === 'ready' ? refs.found : null;
  const discovered = found ? [...new Set(found.references.map((r) => parseReference(r.reference).repository))] : [];
  const mapped = new Set(rows.map((r) => r.from.trim()));

  return (
    <Errors.Provider value={errors}>
      <h1>{existing ? `Edit ${existing.name}` : 'New chart customization'}</h1>
      <ErrorSummary errors={errors} failure={failure} hrefOf={(f) => (f ? '#' + fieldId(f) : null)} />
      <form onSubmit={submit} noValidate>
        <TextField path="name" label="Name" value={name} readOnly={!!existing} spellcheck={false} onValue={(v) => set({ name: v })} />
        <SelectField
          path="source"
          label="Chart repository"
          hint={`A Helm chart repository (OCI) of ${org()}.`}
          placeholder="Choose a repository"
          value={source}
          choices={chartRepos.map((r) => ({ value: r.repository, label: r.repository }))}
          onValue={(v) => set({ source: v, refVersion: '' })}
        />
        <TextField path="versions" under label="Versions (optional)" hint="Globs over chart versions, separated by spaces, e.g. 1.*; empty: every version." value={versions} spellcheck={false} onValue={(v) => set({ versions: v })} />
        <TextField
          path="tag_suffix"
          label="Tag suffix"
          hint={`Version 1.4.2 becomes 1.4.2+${suffix.trim() || 'SUFFIX'}, pushed as tag 1.4.2_${suffix.trim() || 'SUFFIX'}.`}
          value={suffix}
          spellcheck={false}
          onValue={(v) => set({ suffix: v })}
        />
        <TextField path="destination" label="Destination repository (optional)" hint="By default the chart repository itself." value={destination} spellcheck={false} onValue={(v) => set({ destination: v })} />
        <div class="field checkbox">
          <input type="checkbox" id={fieldId('strict')} checked={strict} onChange={(e) => set({ strict: (e.target as HTMLInputElement).checked })} />
          <label for={fieldId('strict')}>Strict: fail a version when an image reference matches no mapping</label>
          <FieldErrors path="strict" />
        </div>

        <section class="group" aria-labelledby="found-title">
          <h2 id="found-title">Image references in the chart</h2>
          {source && tags.length > 0 && (
            <SelectField path="references-version" label="Read the references of version" value={version} choices={tags.map((t) => ({ value: t.tag, label: t.tag }))} onValue={(v) => set({ refVersion: v })} />
          )}
          {!source && <p class="muted">Choose the chart repository to see the image references its charts deploy.</p>}
          {refs.kind === 'loading' && <Loading what="the chart's image references" />}
          {refs.kind === 'reading' && (
            <p class="muted" role="status">
              Reading the chart's image references… (a worker reads the chart once; this takes a few seconds)
            </p>
          )}
          {refs.kind === 'error' && <Notice tone="error"><p>The image references could not be read: {refs.message} You can still type the mappings.</p></Notice>}
          {found && found.references.length === 0 && <p class="muted">No image reference was found in this version.</p>}
          {found && found.references.length > 0 && (
            <table class="table">
              <caption class="sr-only">Image repositories the chart deploys</caption>
              <thead>
                <tr>
                  <th scope="col">Image repository</th>
                  <th scope="col">Found as</th>
                  <th scope="col">Mapping</th>
                </tr>
              </thead>
              <tbody>
                {discovered.map((repo) => (
                  <tr key={repo}>
                    <td>
                      <code>{repo}</code>
                    </td>
                    <td>
                      <ul class="compact">
                        {found.references
                          .filter((r) => parseReference(r.reference).repository === repo)
                          .map((r, i) => (
                            <li key={i}>
                              <code>{r.reference}</code>{' '}
                              <span class="muted">
                                {r.file}:{r.line} {r.path}
                              </span>
                            </li>
                          ))}
                      </ul>
                    </td>
                    <td>
                      {mapped.has(repo) ? (
                        <span class="muted">mapped</span>
                      ) : (
                        <button type="button" class="small" onClick={() => add(repo, '')}>
                          Map<Sr> {repo}</Sr>
                        </button>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          {found && found.literal.length > 0 && (
            <>
              <h3>Images written literally in templates</h3>
              <p class="hint">These cannot be rewritten safely; builds report them.</p>
              <ul>
                {found.literal.map((r, i) => (
                  <li key={i}>
                    <code>{r.reference}</code> <span class="muted">({r.file}:{r.line})</span>
                  </li>
                ))}
              </ul>
            </>
          )}
        </section>

        <section class="group" aria-labelledby="mapping-title" id={fieldId('reference_mapping')} tabIndex={-1}>
          <h2 id="mapping-title">Reference mapping</h2>
          <p class="hint">
            Each <em>from</em> is an image repository as the chart names it (no tag); <em>to</em> is a repository of {org()} (the
            reference keeps its tag), or <code>repository:tag</code>. Every rewritten reference is pinned to the digest its target
            has.
          </p>
          <FieldErrors path="reference_mapping" />
          <datalist id="from-choices">
            {discovered.map((d) => (
              <option key={d} value={d} />
            ))}
          </datalist>
          <datalist id="to-choices">
            {targets.map((t) => (
              <option key={t} value={t} />
            ))}
          </datalist>
          {rows.map((m, i) => {
            const at = `reference_mapping[${i}]`;
            return (
              <div class="row pair" key={m.key} id={fieldId(at)} tabIndex={-1}>
                <TextField path={`${at}.from`} label={<>From<Sr> (mapping {i + 1})</Sr></>} list="from-choices" value={m.from} spellcheck={false} onValue={(from) => edit(i, { from })} />
                <TextField path={`${at}.to`} label={<>To<Sr> (mapping {i + 1})</Sr></>} list="to-choices" value={m.to} spellcheck={false} onValue={(to) => edit(i, { to })} />
                <button type="button" class="small secondary" onClick={() => setRows((r) => r.filter((_, j) => j !== i))}>
                  Remove<Sr> mapping {i + 1}</Sr>
                </button>
                <FieldErrors path={at} />
              </div>
            );
          })}
          <button type="button" class="secondary" onClick={() => add()}>
            Add mapping
          </button>
        </section>
        <div class="wizard-nav">
          <button type="submit" class="primary" disabled={busy}>
            {existing ? 'Save changes' : 'Create chart customization'}
          </button>
        </div>
        <p>
          <button type="button" class="link-button" onClick={startOver}>
            {existing ? 'Discard my changes' : 'Start over with an empty form'}
          </button>
        </p>
      </form>
    </Errors.Provider>
  );
}

// The builds of an image or chart customization: a table (status, tag, digest, duration,
// started) and the chosen build — its outputs and a log panel that follows a queued or
// running build (polling the build and its log every second).
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, ok } from '../api/client';
import type { Build } from '../api/client';
import { Link } from '../lib/Link';
import { useAsync, useInterval } from '../lib/useAsync';
import { withQuery } from '../router';
import { org } from '../session';
import { Failure, Loading } from './Notice';

export type Kind = 'image' | 'chart';

export const buildApi = {
  list(kind: Kind, id: string): Promise<Build[]> {
    const path = { org: org(), id };
    const q = { limit: 50 };
    return (
      kind === 'image'
        ? ok(api.GET('/v1/orgs/{org}/customizations/{id}/builds', { params: { path, query: q } }))
        : ok(api.GET('/v1/orgs/{org}/chart-customizations/{id}/builds', { params: { path, query: q } }))
    ).then((r) => r.builds);
  },
  get(kind: Kind, id: string, number: number): Promise<Build> {
    const path = { org: org(), id, number };
    return kind === 'image'
      ? ok(api.GET('/v1/orgs/{org}/customizations/{id}/builds/{number}', { params: { path } }))
      : ok(api.GET('/v1/orgs/{org}/chart-customizations/{id}/builds/{number}', { params: { path } }));
  },
  log(kind: Kind, id: string, number: number): Promise<string> {
    const path = { org: org(), id, number };
    return (
      kind === 'image'
        ? ok(api.GET('/v1/orgs/{org}/customizations/{id}/builds/{number}/log', { params: { path }, parseAs: 'text' }))
        : ok(api.GET('/v1/orgs/{org}/chart-customizations/{id}/builds/{number}/log', { params: { path }, parseAs: 'text' }))
    ) as Promise<string>;
  },
  trigger(kind: Kind, id: string): Promise<Build> {
    const path = { org: org(), id };
    return kind === 'image'
      ? ok(api.POST('/v1/orgs/{org}/customizations/{id}/builds', { params: { path } }))
      : ok(api.POST('/v1/orgs/{org}/chart-customizations/{id}/builds', { params: { path } }));
  },
};

export const active = (b: Build) => b.status === 'queued' || b.status === 'running';

export function when(t: string | null | undefined): string {
  if (!t) return '—';
  const d = new Date(t);
  return Number.isNaN(d.getTime()) ? t : d.toLocaleString();
}

function duration(b: Build): string {
  const out = b.outputs as { duration_ms?: number } | null;
  const ms =
    b.started_at && b.finished_at ? Date.parse(b.finished_at) - Date.parse(b.started_at) : typeof out?.duration_ms === 'number' ? out.duration_ms : NaN;
  if (!Number.isFinite(ms)) return b.started_at ? 'running' : '—';
  return ms < 1000 ? `${ms} ms` : ms < 60_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

export function Status({ status }: { status: string }) {
  return <span class={`status status-${status}`}>{status}</span>;
}

interface ImageOutputs {
  tag?: string;
  index_digest?: string;
}
interface ChartVersion {
  version?: string;
  customized_version?: string;
  tag?: string;
  digest?: string;
  status?: string;
  error?: string;
  rewrites?: { file?: string; line?: number; path?: string; old?: string; new?: string }[];
  unmapped?: (string | { reference?: string; file?: string; line?: number; path?: string })[];
  literal_template_images?: (string | { reference?: string; file?: string; line?: number })[];
  notes?: string[];
}

function versionsOf(b: Build): ChartVersion[] {
  const v = (b.outputs as { versions?: unknown } | null)?.versions;
  return Array.isArray(v) ? (v as ChartVersion[]) : [];
}

function tagOf(kind: Kind, b: Build): string {
  if (kind === 'image') return (b.outputs as ImageOutputs | null)?.tag ?? '—';
  const v = versionsOf(b);
  return v.length ? v.map((x) => x.tag ?? x.version).join(', ') : '—';
}

function digestOf(kind: Kind, b: Build): string {
  if (kind === 'image') return (b.outputs as ImageOutputs | null)?.index_digest ?? '—';
  const v = versionsOf(b).filter((x) => x.digest);
  return v.length === 1 ? v[0].digest ?? '—' : v.length ? `${v.length} versions` : '—';
}

function short(digest: string): string {
  return digest.startsWith('sha256:') ? digest.slice(0, 19) + '…' : digest;
}

function where(x: { file?: string; line?: number; path?: string }): string {
  return [x.file && (x.line ? `${x.file}:${x.line}` : x.file), x.path].filter(Boolean).join(' ');
}

function ref(x: string | { reference?: string; file?: string; line?: number; path?: string }): string {
  return typeof x === 'string' ? x : `${x.reference ?? ''}${where(x) ? ` (${where(x)})` : ''}`;
}

function ChartVersions({ b }: { b: Build }) {
  const versions = versionsOf(b);
  if (!versions.length) return null;
  return (
    <>
      <h3>Chart versions</h3>
      <table class="table">
        <thead>
          <tr>
            <th scope="col">Version</th>
            <th scope="col">Status</th>
            <th scope="col">Tag</th>
            <th scope="col">Rewrites</th>
            <th scope="col">Unmapped</th>
            <th scope="col">Literal template images</th>
          </tr>
        </thead>
        <tbody>
          {versions.map((v, i) => (
            <tr key={i}>
              <td>
                {v.version}
                {v.customized_version && <div class="muted">→ {v.customized_version}</div>}
              </td>
              <td>
                <Status status={v.status ?? 'unknown'} />
                {v.error && <div class="error-text">{v.error}</div>}
              </td>
              <td>
                <code>{v.tag ?? '—'}</code>
                {v.digest && <div class="muted digest">{v.digest}</div>}
              </td>
              <td>
                {v.rewrites?.length ? (
                  <ul class="compact">
                    {v.rewrites.map((r, j) => (
                      <li key={j}>
                        <span class="muted">{where(r)}</span>: <code>{r.old}</code> → <code>{r.new}</code>
                      </li>
                    ))}
                  </ul>
                ) : (
                  'none'
                )}
              </td>
              <td>{v.unmapped?.length ? <ul class="compact">{v.unmapped.map((u, j) => <li key={j}><code>{ref(u)}</code></li>)}</ul> : 'none'}</td>
              <td>
                {v.literal_template_images?.length ? (
                  <ul class="compact">{v.literal_template_images.map((u, j) => <li key={j}><code>{ref(u)}</code></li>)}</ul>
                ) : (
                  'none'
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

/** The chosen build: facts, outputs, and its log, followed while it runs. */
function BuildPanel({ kind, id, number, onChange }: { kind: Kind; id: string; number: number; onChange: () => void }) {
  const [build, setBuild] = useState<Build | null>(null);
  const [log, setLog] = useState('');
  const [error, setError] = useState<unknown>(null);
  const pre = useRef<HTMLPreElement>(null);
  const follow = useRef(true);
  const wasActive = useRef(false);

  const refresh = async () => {
    try {
      const [b, l] = await Promise.all([buildApi.get(kind, id, number), buildApi.log(kind, id, number)]);
      setBuild(b);
      setLog(l);
      setError(null);
      if (wasActive.current && !active(b)) onChange();
      wasActive.current = active(b);
    } catch (e) {
      setError(e);
    }
  };
  useEffect(() => {
    setBuild(null);
    setLog('');
    wasActive.current = false;
    void refresh();
  }, [kind, id, number]);
  useInterval(refresh, 1000, !!build && active(build));
  useEffect(() => {
    const el = pre.current;
    if (el && follow.current) el.scrollTop = el.scrollHeight;
  }, [log]);

  if (error && !build) return <Failure error={error} retry={refresh} what={`Build ${number} could not be read`} />;
  if (!build) return <Loading what={`build ${number}`} />;
  const running = active(build);
  return (
    <section class="build-panel" aria-labelledby="build-title">
      <h2 id="build-title">
        Build {build.number} <Status status={build.status} />
      </h2>
      <dl class="facts">
        <dt>Reason</dt>
        <dd>{build.reason}</dd>
        <dt>Revision</dt>
        <dd>{build.revision}</dd>
        <dt>Started</dt>
        <dd>{when(build.started_at)}</dd>
        <dt>Duration</dt>
        <dd>{duration(build)}</dd>
        {kind === 'image' && (
          <>
            <dt>Tag</dt>
            <dd>
              <code>{tagOf(kind, build)}</code>
            </dd>
            <dt>Digest</dt>
            <dd>
              <code class="digest">{digestOf(kind, build)}</code>
            </dd>
          </>
        )}
      </dl>
      {build.error && (
        <p class="notice error">
          <strong>Error:</strong> {build.error}
        </p>
      )}
      {kind === 'chart' && <ChartVersions b={build} />}
      <h3 id="log-title">Log</h3>
      <p class="hint" role="status">
        {running ? `Build ${build.number} is ${build.status}: the log follows it.` : `Build ${build.number} ${build.status}.`}
      </p>
      <pre
        class="log"
        ref={pre}
        tabIndex={0}
        role="log"
        aria-labelledby="log-title"
        onScroll={(e) => {
          const el = e.target as HTMLPreElement;
          follow.current = el.scrollTop + el.clientHeight >= el.scrollHeight - 8;
        }}
      >
        {log || (running ? 'Waiting for the worker…' : '(empty)')}
      </pre>
      {error ? <Failure error={error} what="Refreshing failed" /> : null}
    </section>
  );
}

export function Builds({ kind, id, basePath, selected, refreshKey }: { kind: Kind; id: string; basePath: string; selected: number | null; refreshKey: number }) {
  const builds = useAsync(() => buildApi.list(kind, id), [kind, id, refreshKey]);
  const list = builds.data ?? [];
  useInterval(() => void builds.reload(), 2000, list.some(active));
  const chosen = selected ?? list[0]?.number ?? null;
  return (
    <>
      <section aria-labelledby="builds-title">
        <h2 id="builds-title">Builds</h2>
        {builds.error ? <Failure error={builds.error} retry={builds.reload} what="The builds could not be listed" /> : null}
        {builds.loading && !builds.data && <Loading what="the builds" />}
        {builds.data && list.length === 0 && <p class="muted">No builds yet.</p>}
        {list.length > 0 && (
          <div class="table-wrap">
            <table class="table">
              <caption class="sr-only">Builds, newest first</caption>
              <thead>
                <tr>
                  <th scope="col">Build</th>
                  <th scope="col">Status</th>
                  <th scope="col">{kind === 'image' ? 'Tag' : 'Tags'}</th>
                  <th scope="col">Digest</th>
                  <th scope="col">Duration</th>
                  <th scope="col">Started</th>
                  <th scope="col">Reason</th>
                </tr>
              </thead>
              <tbody>
                {list.map((b) => (
                  <tr key={b.number} class={b.number === chosen ? 'selected' : undefined}>
                    <td>
                      <Link href={withQuery(basePath, { build: b.number })} aria-current={b.number === chosen ? 'true' : undefined}>
                        Build {b.number}
                      </Link>
                    </td>
                    <td>
                      <Status status={b.status} />
                    </td>
                    <td>
                      <code>{tagOf(kind, b)}</code>
                    </td>
                    <td>
                      <code title={digestOf(kind, b)}>{short(digestOf(kind, b))}</code>
                    </td>
                    <td>{duration(b)}</td>
                    <td>{when(b.started_at)}</td>
                    <td>{b.reason}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
      {chosen !== null && <BuildPanel key={chosen} kind={kind} id={id} number={chosen} onChange={() => void builds.reload()} />}
    </>
  );
}

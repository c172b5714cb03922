// A browsable file tree of an image tag (GET …/repositories/{name}/tags/{tag}/files): nested
// lists whose directories open and close (disclosure buttons with aria-expanded), each entry
// with the action that fits it — "Include" outside every include, "Exclude" under one. The
// listing is read by a worker on first request: while the API answers 404 `not_indexed`
// the tree says so and asks again every second.
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, describe, ok } from '../api/client';
import type { FileEntry } from '../api/client';
import { org } from '../session';
import { Sr } from './Field';

interface Listing {
  entries: FileEntry[];
  truncated: boolean;
  total: number;
  platform: string;
}

/** Directory listings already read, by repository, tag, platform and path. */
const cache = new Map<string, Listing>();

type State = { kind: 'loading' } | { kind: 'reading' } | { kind: 'error'; message: string } | { kind: 'ready'; listing: Listing };

function useListing(repository: string, tag: string, platform: string, path: string): [State, () => void] {
  const k = [repository, tag, platform, path].join('\n');
  const [state, setState] = useState<State>(() => {
    const c = cache.get(k);
    return c ? { kind: 'ready', listing: c } : { kind: 'loading' };
  });
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    const c = cache.get(k);
    if (c) {
      setState({ kind: 'ready', listing: c });
      return;
    }
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const name = repository.startsWith(org() + '/') ? repository.slice(org().length + 1) : repository;
    const load = async () => {
      try {
        const r = await ok(
          api.GET('/v1/orgs/{org}/repositories/{name}/tags/{tag}/files', {
            params: { path: { org: org(), name, tag }, query: { path, platform: platform || undefined } },
          }),
        );
        const listing = { entries: r.entries, truncated: r.truncated, total: r.total, platform: r.platform };
        cache.set(k, listing);
        if (live) setState({ kind: 'ready', listing });
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
  }, [k, attempt]);
  return [state, () => setAttempt((a) => a + 1)];
}

export interface TreeProps {
  /** Makes the ids of this tree unique on the page. */
  idPrefix: string;
  repository: string;
  tag: string;
  platform: string;
  includes: string[];
  excludes: string[];
  onInclude: (path: string) => void;
  onExclude: (path: string) => void;
}

export function under(path: string, dir: string): boolean {
  return dir === '/' ? path !== '/' : path.startsWith(dir + '/');
}

function Directory(props: TreeProps & { path: string; label: string }) {
  const [state, retry] = useListing(props.repository, props.tag, props.platform, props.path);
  if (state.kind === 'loading') return <p class="muted" role="status">Loading {props.label}…</p>;
  if (state.kind === 'reading') return <p class="muted" role="status">Reading the artifact's files… (tailor's worker lists them once; this takes a few seconds)</p>;
  if (state.kind === 'error')
    return (
      <div class="notice error">
        <p>The files of {props.label} could not be listed: {state.message}</p>
        <button type="button" class="secondary" onClick={retry}>
          Try again<Sr> to list {props.label}</Sr>
        </button>
      </div>
    );
  const { entries, truncated } = state.listing;
  return (
    <>
      {entries.length === 0 && <p class="muted">{props.path} is empty.</p>}
      <ul class="tree">
        {entries.map((e) => (
          <Entry key={e.path} {...props} entry={e} />
        ))}
      </ul>
      {truncated && props.path === '/' && (
        <p class="hint">The image has more than {state.listing.total} entries: the listing is incomplete. Type a path below to include what is not shown.</p>
      )}
    </>
  );
}

function size(n: number): string {
  return n < 1024 ? `${n} B` : n < 1024 * 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

function Entry(props: TreeProps & { entry: FileEntry }) {
  const { entry, includes, excludes } = props;
  const [open, setOpen] = useState(false);
  const isDir = entry.kind === 'directory';
  const included = includes.includes(entry.path);
  const excluded = excludes.includes(entry.path);
  const inside = includes.some((i) => under(entry.path, i));
  const shadowed = excludes.some((x) => under(entry.path, x));
  const subId = `${props.idPrefix}-dir${entry.path.replace(/[^A-Za-z0-9_-]/g, (c) => '_' + c.charCodeAt(0).toString(16))}`;
  return (
    <li>
      <div class="tree-row">
        {isDir ? (
          <button type="button" class="tree-toggle" aria-expanded={open} aria-controls={open ? subId : undefined} onClick={() => setOpen(!open)}>
            <span aria-hidden="true" class="chevron">{open ? '▾' : '▸'}</span> {entry.name}/
          </button>
        ) : (
          <span class="tree-file">
            {entry.name}
            {entry.target !== undefined && <span class="muted"> → {entry.target}</span>}
          </span>
        )}
        <span class="muted tree-meta">{isDir ? 'directory' : entry.kind === 'file' ? size(entry.size) : entry.kind}</span>
        {included ? (
          <span class="tag-chip ok">included</span>
        ) : excluded ? (
          <span class="tag-chip warn">excluded</span>
        ) : shadowed ? null : inside ? (
          <button type="button" class="small secondary" onClick={() => props.onExclude(entry.path)}>
            Exclude<Sr> {entry.path}</Sr>
          </button>
        ) : (
          <button type="button" class="small" onClick={() => props.onInclude(entry.path)}>
            Include<Sr> {entry.path}</Sr>
          </button>
        )}
      </div>
      {isDir && open && (
        <div id={subId} class="tree-children">
          <Directory {...props} path={entry.path} label={entry.path} />
        </div>
      )}
    </li>
  );
}

/** The tree from `/`. */
export function FileTree(props: TreeProps) {
  return (
    <div class="file-tree" role="group" aria-label={`Files of ${props.repository}:${props.tag}`}>
      <Directory {...props} path="/" label={`${props.repository}:${props.tag}`} />
    </div>
  );
}

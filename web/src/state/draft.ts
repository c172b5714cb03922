// The wizard's draft: what the person chose so far, as the inputs hold it (strings, rows),
// kept for the tab (sessionStorage) so it survives Back, Next and a reload. `specOf` turns it
// into the Spec that is submitted (and shown as YAML on Review); `draftOf` the other way,
// for Edit and "Create new from this".
import type { Detail, Spec } from '../api/client';
import { createStore, useStore } from '../lib/store';

export type Mode = 'create' | 'edit' | 'copy';

export interface Row {
  key: number;
}
export interface ArtifactDraft extends Row {
  repository: string;
  tag: string;
  /** `sha256:…` when the reference pins a digest. */
  digest: string;
  includes: string[];
  excludes: string[];
}
export interface FileDraft extends Row {
  path: string;
  content: string;
  uid: string;
  gid: string;
  mode: string;
}
export interface Pair extends Row {
  name: string;
  value: string;
}
export interface UserDraft extends Row {
  name: string;
  uid: string;
  gid: string;
  home: string;
  shell: string;
  gecos: string;
}
export interface GroupDraft extends Row {
  name: string;
  gid: string;
  members: string;
}
export interface Arg extends Row {
  value: string;
}

export interface Draft {
  mode: Mode;
  /** The customization edited or copied. */
  id: string | null;
  revision: number | null;
  /** Its current spec (Review diffs against it when editing). */
  original: Spec | null;
  name: string;
  repository: string;
  tag: string;
  digest: string;
  packages: string[];
  artifacts: ArtifactDraft[];
  files: FileDraft[];
  environment: Pair[];
  labels: Pair[];
  annotations: Pair[];
  users: UserDraft[];
  groups: GroupDraft[];
  runAs: string;
  entrypoint: Arg[];
  cmd: Arg[];
  tagSuffix: string;
  destination: string;
  platforms: string[];
  /** The platforms were chosen by the person (else step 5 preselects every one offered). */
  platformsChosen: boolean;
  /** Problems of the last submission (the API's `details`, or the inputs' own). */
  errors: Detail[];
  /** The last submission's message when it failed without field problems. */
  failure: string;
  seq: number;
}

const KEY = 'tailor.draft';

export function emptyDraft(): Draft {
  return {
    mode: 'create',
    id: null,
    revision: null,
    original: null,
    name: '',
    repository: '',
    tag: '',
    digest: '',
    packages: [],
    artifacts: [],
    files: [],
    environment: [],
    labels: [],
    annotations: [],
    users: [],
    groups: [],
    runAs: '',
    entrypoint: [],
    cmd: [],
    tagSuffix: '',
    destination: '',
    platforms: [],
    platformsChosen: false,
    errors: [],
    failure: '',
    seq: 1,
  };
}

function load(): Draft {
  try {
    const d = JSON.parse(sessionStorage.getItem(KEY) ?? 'null') as Draft | null;
    return d && typeof d === 'object' && Array.isArray(d.artifacts) ? { ...emptyDraft(), ...d } : emptyDraft();
  } catch {
    return emptyDraft();
  }
}

export const draft = createStore<Draft>(load());

export function setDraft(d: Draft) {
  try {
    sessionStorage.setItem(KEY, JSON.stringify(d));
  } catch {
    // Storage full or denied: the draft still lives in memory.
  }
  draft.set(d);
}

/** Applies a change: `update(d => ({...d, name}))`. */
export function update(f: (d: Draft) => Draft) {
  setDraft(f(draft.value));
}

export function useDraft(): Draft {
  return useStore(draft);
}

export function clearDraft() {
  sessionStorage.removeItem(KEY);
  draft.set(emptyDraft());
}

// ---------------------------------------------------------------------------------------------
// References

/** `[host/]repo[:tag][@digest]` → its parts (the tag is after the last `:` of the last segment). */
export function parseReference(s: string): { repository: string; tag: string; digest: string } {
  const [nameTag, digest = ''] = s.trim().split('@', 2);
  const slash = nameTag.lastIndexOf('/');
  const colon = nameTag.lastIndexOf(':');
  if (colon > slash) return { repository: nameTag.slice(0, colon), tag: nameTag.slice(colon + 1), digest };
  return { repository: nameTag, tag: '', digest };
}

export function reference(repository: string, tag: string, digest = ''): string {
  return repository.trim() + (tag.trim() ? ':' + tag.trim() : '') + (digest.trim() ? '@' + digest.trim() : '');
}

export function sourceOf(d: Draft): string {
  return reference(d.repository, d.tag, d.digest);
}

/** What the result is called: `DESTINATION-or-SOURCE-REPO:TAG_SUFFIX`. */
export function resultOf(d: Draft): string {
  const repo = d.destination.trim() || d.repository.trim();
  return `${repo}:${d.tag.trim()}_${d.tagSuffix.trim()}`;
}

// ---------------------------------------------------------------------------------------------
// Field paths (as the API's `details[].field`) and where the wizard edits them

export const STEPS = ['Source', 'Packages', 'Artifacts', 'Files', 'Configure', 'Review', 'Create'] as const;

/** The step (1-based) where the field of an API field path is edited. */
export function stepOf(field: string): number {
  if (field === 'name' || field === 'source') return 1;
  if (field.startsWith('contents.packages')) return 2;
  if (field.startsWith('contents')) return 3;
  if (field.startsWith('files')) return 4;
  if (field === '') return 7;
  return 5;
}

/** The element id of a field path (`f-files[0].mode`); ids carry no spaces. */
export function fieldId(field: string): string {
  return 'f-' + field.replace(/[^A-Za-z0-9_.\-[\]"]/g, (c) => '_' + c.charCodeAt(0).toString(16));
}

/** `map.key`, or `map."key"` when the key is empty or has spaces (as the API writes it). */
export function keyPath(map: string, key: string): string {
  return key === '' || /[\s\p{Cc}]/u.test(key) ? `${map}.${JSON.stringify(key)}` : `${map}.${key}`;
}

/** The problems of a field (exact path). */
export function errorsAt(errors: Detail[], field: string): string[] {
  return errors.filter((e) => e.field === field).map((e) => e.problem);
}

// ---------------------------------------------------------------------------------------------
// Draft ⇄ Spec

const INT = /^\d+$/;

function byName<T extends { name: string }>(a: T, b: T) {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/** The spec the draft stands for, and the problems that keep it from being one (a uid that is
 * not a number, a map key given twice). Empty rows are left out; maps are sorted by key, as
 * the API keeps them. */
export function specOf(d: Draft): { spec: Spec; problems: Detail[] } {
  const problems: Detail[] = [];
  const int = (field: string, v: string): number => {
    const t = v.trim();
    if (!INT.test(t) || !Number.isSafeInteger(Number(t))) {
      problems.push({ field, problem: t === '' ? 'is required: a whole number, 0 or more' : `${JSON.stringify(v)} is not a whole number (0 or more)` });
      return 0;
    }
    return Number(t);
  };
  const map = (name: string, rows: Pair[]): Record<string, string> | undefined => {
    const out: Record<string, string> = {};
    const kept = rows.filter((r) => r.name !== '' || r.value !== '').map((r) => ({ ...r, name: r.name.trim() }));
    for (const r of [...kept].sort(byName)) {
      if (r.name in out) problems.push({ field: keyPath(name, r.name), problem: `${JSON.stringify(r.name)} is set twice` });
      out[r.name] = r.value;
    }
    return kept.length ? out : undefined;
  };
  const args = (rows: Arg[]) => (rows.length ? rows.map((r) => r.value) : undefined);

  const spec: Record<string, unknown> = {
    name: d.name.trim(),
    source: sourceOf(d),
  };
  if (d.destination.trim()) spec.destination = d.destination.trim();
  spec.tag_suffix = d.tagSuffix.trim();
  spec.platforms = [...d.platforms];
  const contents: Record<string, unknown> = {};
  if (d.packages.length) contents.packages = [...d.packages];
  if (d.artifacts.length)
    contents.artifacts = d.artifacts.map((a) => {
      const o: Record<string, unknown> = { reference: reference(a.repository, a.tag, a.digest) };
      if (a.includes.length) o.includes = [...a.includes];
      if (a.excludes.length) o.excludes = [...a.excludes];
      return o;
    });
  if (Object.keys(contents).length) spec.contents = contents;
  const files = d.files.filter((f) => f.path !== '' || f.content !== '');
  if (files.length)
    spec.files = files.map((f) => {
      const i = d.files.indexOf(f);
      return {
        path: f.path.trim(),
        content: f.content,
        uid: int(`files[${i}].uid`, f.uid),
        gid: int(`files[${i}].gid`, f.gid),
        mode: f.mode.trim(),
      };
    });
  const accounts: Record<string, unknown> = {};
  const groups = d.groups.filter((g) => g.name !== '' || g.gid !== '' || g.members !== '');
  if (groups.length)
    accounts.groups = groups.map((g) => {
      const i = d.groups.indexOf(g);
      const o: Record<string, unknown> = { name: g.name.trim(), gid: int(`accounts.groups[${i}].gid`, g.gid) };
      const members = g.members.split(/[\s,]+/).filter(Boolean);
      if (members.length) o.members = members;
      return o;
    });
  const users = d.users.filter((u) => u.name !== '' || u.uid !== '' || u.gid !== '' || u.home !== '' || u.shell !== '' || u.gecos !== '');
  if (users.length)
    accounts.users = users.map((u) => {
      const i = d.users.indexOf(u);
      const o: Record<string, unknown> = {
        name: u.name.trim(),
        uid: int(`accounts.users[${i}].uid`, u.uid),
        gid: int(`accounts.users[${i}].gid`, u.gid),
      };
      if (u.home.trim()) o.home = u.home.trim();
      if (u.shell.trim()) o.shell = u.shell.trim();
      if (u.gecos !== '') o.gecos = u.gecos;
      return o;
    });
  if (d.runAs.trim()) accounts.run_as = d.runAs.trim();
  if (Object.keys(accounts).length) spec.accounts = accounts;
  for (const [name, rows] of [
    ['environment', d.environment],
    ['labels', d.labels],
    ['annotations', d.annotations],
  ] as const) {
    const m = map(name, rows);
    if (m) spec[name] = m;
  }
  const entrypoint = args(d.entrypoint);
  if (entrypoint) spec.entrypoint = entrypoint;
  const cmd = args(d.cmd);
  if (cmd) spec.cmd = cmd;
  // Client-side problems are reported at the index the inputs have, which is also the API's
  // (rows left out are only trailing empty ones in practice; see `compact`).
  return { spec: spec as unknown as Spec, problems };
}

/** Drops the empty rows, so that the indexes of the inputs are those of the spec (the API's
 * field paths then point at the right input). Called before a submission. */
export function compact(d: Draft): Draft {
  return {
    ...d,
    files: d.files.filter((f) => f.path !== '' || f.content !== ''),
    groups: d.groups.filter((g) => g.name !== '' || g.gid !== '' || g.members !== ''),
    users: d.users.filter((u) => u.name !== '' || u.uid !== '' || u.gid !== '' || u.home !== '' || u.shell !== '' || u.gecos !== ''),
    environment: d.environment.filter((r) => r.name !== '' || r.value !== ''),
    labels: d.labels.filter((r) => r.name !== '' || r.value !== ''),
    annotations: d.annotations.filter((r) => r.name !== '' || r.value !== ''),
  };
}

/** A draft of an existing spec: `edit` keeps the name, `copy` proposes a new one. */
export function draftOf(spec: Spec, mode: Mode, id: string | null, revision: number | null): Draft {
  let seq = 1;
  const key = () => seq++;
  const src = parseReference(spec.source);
  const pairs = (m: Record<string, string> | undefined) =>
    Object.entries(m ?? {}).map(([name, value]) => ({ key: key(), name, value }));
  const d: Draft = {
    ...emptyDraft(),
    mode,
    id,
    revision,
    original: spec,
    name: mode === 'copy' ? `${spec.name}-copy` : spec.name,
    repository: src.repository,
    tag: src.tag,
    digest: src.digest,
    packages: [...(spec.contents?.packages ?? [])],
    artifacts: (spec.contents?.artifacts ?? []).map((a) => {
      const r = parseReference(a.reference);
      return { key: key(), ...r, includes: [...(a.includes ?? [])], excludes: [...(a.excludes ?? [])] };
    }),
    files: (spec.files ?? []).map((f) => ({
      key: key(),
      path: f.path,
      content: f.content,
      uid: String(f.uid ?? 0),
      gid: String(f.gid ?? 0),
      mode: f.mode ?? '0644',
    })),
    environment: pairs(spec.environment),
    labels: pairs(spec.labels),
    annotations: pairs(spec.annotations),
    users: (spec.accounts?.users ?? []).map((u) => ({
      key: key(),
      name: u.name,
      uid: String(u.uid),
      gid: String(u.gid),
      home: u.home ?? '',
      shell: u.shell ?? '',
      gecos: u.gecos ?? '',
    })),
    groups: (spec.accounts?.groups ?? []).map((g) => ({
      key: key(),
      name: g.name,
      gid: String(g.gid),
      members: (g.members ?? []).join(', '),
    })),
    runAs: spec.accounts?.run_as ?? '',
    entrypoint: (spec.entrypoint ?? []).map((value) => ({ key: key(), value })),
    cmd: (spec.cmd ?? []).map((value) => ({ key: key(), value })),
    tagSuffix: spec.tag_suffix,
    destination: spec.destination ?? '',
    platforms: [...spec.platforms],
    platformsChosen: true,
  };
  return { ...d, seq };
}

/** A spec in the form the wizard writes (for diffs: the same spec, the same text). */
export function canonical(spec: Spec): Spec {
  return specOf(draftOf(spec, 'edit', null, null)).spec;
}

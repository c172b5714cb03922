// Step 5: the image config and the result — environment, labels, annotations, users and
// groups, the run-as user, ENTRYPOINT and CMD arguments, the tag suffix (with the resulting
// tag), the destination and the platforms: those the base and every artifact offer.
import { useEffect, useState } from 'preact/hooks';
import { FieldErrors, Sr, TextField } from '../../components/Field';
import { platformsOf, useTagPlatforms } from '../../state/catalog';
import { fieldId, keyPath, resultOf, update, useDraft } from '../../state/draft';
import type { Arg, Draft, GroupDraft, Pair, UserDraft } from '../../state/draft';

type PairMap = 'environment' | 'labels' | 'annotations';

function Pairs({ map, title, what, hint }: { map: PairMap; title: string; what: string; hint: string }) {
  const d = useDraft();
  const rows = d[map];
  const set = (f: (rows: Pair[]) => Pair[]) => update((x) => ({ ...x, [map]: f(x[map]) }));
  const edit = (i: number, patch: Partial<Pair>) => set((r) => r.map((p, j) => (j === i ? { ...p, ...patch } : p)));
  return (
    <section class="group" aria-labelledby={`${map}-title`} id={fieldId(map)} tabIndex={-1}>
      <h2 id={`${map}-title`}>{title}</h2>
      <p class="hint">{hint}</p>
      <FieldErrors path={map} />
      {rows.map((r, i) => {
        const name = r.name.trim();
        const first = rows.findIndex((o) => o.name.trim() === name) === i;
        const path = keyPath(map, name);
        const n = i + 1;
        return (
          <div class="row pair" key={r.key}>
            <TextField
              path={first ? path : `${map}-row${r.key}`}
              label={<>Name<Sr> of {what} {n}</Sr></>}
              value={r.name}
              spellcheck={false}
              onValue={(v) => edit(i, { name: v })}
            />
            <TextField path={`${map}-value${r.key}`} label={<>Value<Sr> of {what} {n}</Sr></>} value={r.value} spellcheck={false} onValue={(v) => edit(i, { value: v })} />
            <button type="button" class="small secondary" onClick={() => set((rs) => rs.filter((_, j) => j !== i))}>
              Remove<Sr> {what} {n}</Sr>
            </button>
          </div>
        );
      })}
      <button type="button" class="secondary" onClick={() => update((x) => ({ ...x, seq: x.seq + 1, [map]: [...x[map], { key: x.seq, name: '', value: '' }] }))}>
        Add {what}
      </button>
    </section>
  );
}

function Args({ list, title, hint }: { list: 'entrypoint' | 'cmd'; title: string; hint: string }) {
  const d = useDraft();
  const rows = d[list];
  const set = (f: (rows: Arg[]) => Arg[]) => update((x) => ({ ...x, [list]: f(x[list]) }));
  const word = list === 'entrypoint' ? 'ENTRYPOINT' : 'CMD';
  return (
    <section class="group" aria-labelledby={`${list}-title`} id={fieldId(list)} tabIndex={-1}>
      <h2 id={`${list}-title`}>{title}</h2>
      <p class="hint">{hint}</p>
      <FieldErrors path={list} />
      {rows.map((r, i) => (
        <div class="row pair" key={r.key}>
          <TextField
            path={`${list}[${i}]`}
            label={<>{word} argument {i + 1}</>}
            value={r.value}
            spellcheck={false}
            onValue={(value) => set((rs) => rs.map((a, j) => (j === i ? { ...a, value } : a)))}
          />
          <button type="button" class="small secondary" onClick={() => set((rs) => rs.filter((_, j) => j !== i))}>
            Remove<Sr> {word} argument {i + 1}</Sr>
          </button>
        </div>
      ))}
      <button type="button" class="secondary" onClick={() => update((x) => ({ ...x, seq: x.seq + 1, [list]: [...x[list], { key: x.seq, value: '' }] }))}>
        Add {word} argument
      </button>
    </section>
  );
}

function Users() {
  const d = useDraft();
  const edit = (i: number, patch: Partial<UserDraft>) => update((x) => ({ ...x, users: x.users.map((u, j) => (j === i ? { ...u, ...patch } : u)) }));
  return (
    <section class="group" aria-labelledby="users-title" id={fieldId('accounts.users')} tabIndex={-1}>
      <h2 id="users-title">Users</h2>
      <p class="hint">Added to /etc/passwd; a name or uid the image already has is an error.</p>
      <FieldErrors path="accounts.users" />
      {d.users.map((u, i) => {
        const at = `accounts.users[${i}]`;
        const n = i + 1;
        return (
          <fieldset class="row account" key={u.key} id={fieldId(at)} tabIndex={-1}>
            <legend>User {n}</legend>
            <TextField path={`${at}.name`} label={<>Name<Sr> of user {n}</Sr></>} value={u.name} spellcheck={false} onValue={(name) => edit(i, { name })} />
            <TextField path={`${at}.uid`} class="narrow" label={<>UID<Sr> of user {n}</Sr></>} inputMode="numeric" value={u.uid} onValue={(uid) => edit(i, { uid })} />
            <TextField path={`${at}.gid`} class="narrow" label={<>GID<Sr> of user {n}</Sr></>} inputMode="numeric" value={u.gid} onValue={(gid) => edit(i, { gid })} />
            <TextField path={`${at}.home`} label={<>Home<Sr> of user {n}</Sr></>} value={u.home} spellcheck={false} placeholder="/home/name" onValue={(home) => edit(i, { home })} />
            <TextField path={`${at}.shell`} label={<>Shell<Sr> of user {n}</Sr></>} value={u.shell} spellcheck={false} placeholder="/sbin/nologin" onValue={(shell) => edit(i, { shell })} />
            <TextField path={`${at}.gecos`} label={<>Full name<Sr> of user {n}</Sr></>} value={u.gecos} onValue={(gecos) => edit(i, { gecos })} />
            <FieldErrors path={at} />
            <button type="button" class="small secondary" onClick={() => update((x) => ({ ...x, users: x.users.filter((_, j) => j !== i) }))}>
              Remove user {n}
            </button>
          </fieldset>
        );
      })}
      <button
        type="button"
        class="secondary"
        onClick={() => update((x) => ({ ...x, seq: x.seq + 1, users: [...x.users, { key: x.seq, name: '', uid: '', gid: '', home: '', shell: '', gecos: '' }] }))}
      >
        Add user
      </button>
    </section>
  );
}

function Groups() {
  const d = useDraft();
  const edit = (i: number, patch: Partial<GroupDraft>) => update((x) => ({ ...x, groups: x.groups.map((g, j) => (j === i ? { ...g, ...patch } : g)) }));
  return (
    <section class="group" aria-labelledby="groups-title" id={fieldId('accounts.groups')} tabIndex={-1}>
      <h2 id="groups-title">Groups</h2>
      <p class="hint">Added to /etc/group, with their member users.</p>
      <FieldErrors path="accounts.groups" />
      {d.groups.map((g, i) => {
        const at = `accounts.groups[${i}]`;
        const n = i + 1;
        return (
          <fieldset class="row account" key={g.key} id={fieldId(at)} tabIndex={-1}>
            <legend>Group {n}</legend>
            <TextField path={`${at}.name`} label={<>Name<Sr> of group {n}</Sr></>} value={g.name} spellcheck={false} onValue={(name) => edit(i, { name })} />
            <TextField path={`${at}.gid`} class="narrow" label={<>GID<Sr> of group {n}</Sr></>} inputMode="numeric" value={g.gid} onValue={(gid) => edit(i, { gid })} />
            <TextField
              path={`${at}.members`}
              under
              label={<>Members<Sr> of group {n}</Sr></>}
              hint="User names, separated by commas"
              value={g.members}
              spellcheck={false}
              onValue={(members) => edit(i, { members })}
            />
            <FieldErrors path={at} />
            <button type="button" class="small secondary" onClick={() => update((x) => ({ ...x, groups: x.groups.filter((_, j) => j !== i) }))}>
              Remove group {n}
            </button>
          </fieldset>
        );
      })}
      <button type="button" class="secondary" onClick={() => update((x) => ({ ...x, seq: x.seq + 1, groups: [...x.groups, { key: x.seq, name: '', gid: '', members: '' }] }))}>
        Add group
      </button>
    </section>
  );
}

/** The base and the artifacts chosen. */
function inputsOf(d: Draft) {
  return [{ repository: d.repository, tag: d.tag }, ...d.artifacts.filter((a) => a.repository && a.tag)];
}

/** The platforms the base and every artifact offer (null when none of them is known), and
 * the inputs whose platforms tailor does not know yet. */
function offered(d: Draft, repos: Parameters<typeof platformsOf>[0]): { offered: string[] | null; unknown: string[] } {
  const inputs = inputsOf(d);
  let set: string[] | null = null;
  const unknown: string[] = [];
  for (const x of inputs) {
    const p = platformsOf(repos, x.repository, x.tag);
    if (!p) unknown.push(`${x.repository}:${x.tag}`);
    else set = set ? set.filter((q) => p.includes(q)) : [...p];
  }
  return { offered: set, unknown };
}

function Platforms() {
  const d = useDraft();
  const { repos, waiting } = useTagPlatforms(inputsOf(d));
  const { offered: available, unknown } = offered(d, repos.data);
  const [typed, setTyped] = useState('');
  const reading = waiting.length > 0;
  useEffect(() => {
    if (!reading && !d.platformsChosen && d.platforms.length === 0 && available && available.length)
      update((x) => ({ ...x, platforms: [...available] }));
  }, [repos.data, reading]);
  const shown = [...(available ?? []), ...d.platforms.filter((p) => !(available ?? []).includes(p))];
  const toggle = (p: string, on: boolean) =>
    update((x) => ({ ...x, platformsChosen: true, platforms: on ? [...x.platforms.filter((q) => q !== p), p].sort((a, b) => shown.indexOf(a) - shown.indexOf(b)) : x.platforms.filter((q) => q !== p) }));
  const add = () => {
    const p = typed.trim();
    if (p && !d.platforms.includes(p)) toggle(p, true);
    setTyped('');
  };
  return (
    <fieldset class="group" id={fieldId('platforms')} tabIndex={-1} aria-describedby="platforms-hint">
      <legend>Platforms</legend>
      <p class="hint" id="platforms-hint">
        At least one. Offered: the platforms the base image and every artifact have
        {available ? ` — ${available.length ? available.join(', ') : 'none in common'}` : ''}.
      </p>
      <FieldErrors path="platforms" />
      <p class="muted live" role="status">
        {reading ? `Reading the platforms of ${waiting.join(', ')}…` : ''}
      </p>
      {!reading && unknown.length > 0 && (
        <p class="notice warn">
          tailor does not know the platforms of {unknown.join(', ')} (a worker reads them when the registry notifies a push):
          type the platforms to build if they are not listed.
        </p>
      )}
      {available && available.length === 0 && unknown.length === 0 && (
        <p class="notice error">The base image and the artifacts have no platform in common: change the artifacts' tags.</p>
      )}
      <ul class="checks">
        {shown.map((p) => {
          const i = d.platforms.indexOf(p);
          const missing = available && !available.includes(p);
          const id = i >= 0 ? fieldId(`platforms[${i}]`) : `platform-${p.replace(/[^A-Za-z0-9]/g, '_')}`;
          return (
            <li key={p}>
              <input type="checkbox" id={id} checked={i >= 0} onChange={(e) => toggle(p, (e.target as HTMLInputElement).checked)} />
              <label for={id}>
                {p}
                {missing && <span class="warn-text"> (not offered by every input)</span>}
              </label>
              {i >= 0 && <FieldErrors path={`platforms[${i}]`} />}
            </li>
          );
        })}
      </ul>
      {!reading && (unknown.length > 0 || !available) && (
        <div class="inline-add">
          <TextField path="platforms-new" label="Add a platform" placeholder="linux/amd64" value={typed} spellcheck={false} onValue={setTyped} onKeyDown={(e: KeyboardEvent) => {
            if (e.key === 'Enter') {
              e.preventDefault();
              add();
            }
          }} />
          <button type="button" class="secondary" onClick={add}>
            Add platform
          </button>
        </div>
      )}
    </fieldset>
  );
}

export function StepConfigure() {
  const d = useDraft();
  return (
    <>
      <section class="group" aria-labelledby="result-title">
        <h2 id="result-title">Result</h2>
        <TextField
          path="tag_suffix"
          label="Tag suffix"
          hint="The result is tagged <source tag>_<suffix>, next to the source. Letters, digits, “.”, “_” and “-”."
          value={d.tagSuffix}
          spellcheck={false}
          autoComplete="off"
          onValue={(tagSuffix) => update((x) => ({ ...x, tagSuffix }))}
        />
        <TextField
          path="destination"
          label="Destination repository (optional)"
          hint={`Another repository of the same namespace; by default the source's, ${d.repository || 'the source repository'}.`}
          value={d.destination}
          spellcheck={false}
          placeholder={d.repository}
          onValue={(destination) => update((x) => ({ ...x, destination }))}
        />
        <p class="preview">
          Resulting image: <output aria-live="polite">{d.tagSuffix.trim() ? resultOf(d) : `${d.destination.trim() || d.repository}:${d.tag}_…`}</output>
        </p>
      </section>
      <Platforms />
      <Pairs map="environment" title="Environment" what="environment variable" hint="Set in the image config (ENV); a name the base has is replaced." />
      <Pairs map="labels" title="Labels" what="label" hint="Image config labels, e.g. com.acme.team." />
      <Pairs map="annotations" title="Annotations" what="annotation" hint="Manifest annotations, e.g. org.opencontainers.image.vendor." />
      <Users />
      <Groups />
      <section class="group" aria-labelledby="runas-title">
        <h2 id="runas-title">Run as</h2>
        <TextField
          path="accounts.run_as"
          label="Run-as user"
          hint="A user name (of the base or added above), or uid[:gid]. Empty: the base's user."
          value={d.runAs}
          spellcheck={false}
          onValue={(runAs) => update((x) => ({ ...x, runAs }))}
        />
      </section>
      <Args list="entrypoint" title="ENTRYPOINT arguments" hint="Appended to the base image's ENTRYPOINT, one argument each." />
      <Args list="cmd" title="CMD arguments" hint="Appended to the base image's CMD, one argument each." />
    </>
  );
}

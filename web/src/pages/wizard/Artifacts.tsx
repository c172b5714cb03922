// Step 3: artifact images, each one layer: repository → tag → include paths picked in the
// image's file tree (or typed) → excludes under an include. Applied in order, later
// overriding earlier; the list can be reordered.
import { useState } from 'preact/hooks';
import { FileTree, under } from '../../components/FileTree';
import { FieldErrors, SelectField, Sr, TextField } from '../../components/Field';
import { Failure } from '../../components/Notice';
import { tagLabel, tagsOf, useTagPlatforms } from '../../state/catalog';
import { fieldId, update, useDraft } from '../../state/draft';
import type { ArtifactDraft } from '../../state/draft';

function edit(i: number, f: (a: ArtifactDraft) => ArtifactDraft) {
  update((d) => ({ ...d, artifacts: d.artifacts.map((a, j) => (j === i ? f(a) : a)) }));
}

function move(i: number, by: number) {
  update((d) => {
    const a = [...d.artifacts];
    const j = i + by;
    if (j < 0 || j >= a.length) return d;
    [a[i], a[j]] = [a[j], a[i]];
    return { ...d, artifacts: a };
  });
}

/** `/a/b/` → `/a/b`: the path as the API keeps it. */
function clean(p: string): string {
  const t = p.trim();
  if (!t) return t;
  return t === '/' ? '/' : t.replace(/\/+$/, '');
}

function PathAdder({ at, label, onAdd }: { at: string; label: string; onAdd: (p: string) => void }) {
  const [text, setText] = useState('');
  const add = () => {
    if (clean(text)) onAdd(clean(text));
    setText('');
  };
  return (
    <div class="inline-add">
      <TextField
        path={at}
        label={label}
        value={text}
        spellcheck={false}
        placeholder="/opt/app"
        onValue={setText}
        onKeyDown={(e: KeyboardEvent) => {
          if (e.key === 'Enter') {
            e.preventDefault();
            add();
          }
        }}
      />
      <button type="button" class="secondary" onClick={add}>
        {label.startsWith('Include') ? 'Add include' : 'Add exclude'}
      </button>
    </div>
  );
}

function Artifact({ a, i, count }: { a: ArtifactDraft; i: number; count: number }) {
  const { repos, waiting } = useTagPlatforms(a.repository && a.tag ? [a] : []);
  const d = useDraft();
  const at = `contents.artifacts[${i}]`;
  const n = i + 1;
  const tags = tagsOf(repos.data, a.repository);
  const platform = d.platforms[0] ?? '';
  const tagPlatforms = tags.find((t) => t.tag === a.tag)?.platforms ?? [];
  const include = (p: string) => edit(i, (x) => (x.includes.includes(p) ? x : { ...x, includes: [...x.includes, p] }));
  const exclude = (p: string) => edit(i, (x) => (x.excludes.includes(p) ? x : { ...x, excludes: [...x.excludes, p] }));
  const removeInclude = (p: string) =>
    edit(i, (x) => ({ ...x, includes: x.includes.filter((y) => y !== p), excludes: x.excludes.filter((e) => !under(e, p) || x.includes.some((o) => o !== p && under(e, o))) }));
  const removeExclude = (j: number) => edit(i, (x) => ({ ...x, excludes: x.excludes.filter((_, k) => k !== j) }));
  const orphans = a.excludes.map((e, j) => ({ e, j })).filter(({ e }) => !a.includes.some((p) => under(e, p)));
  return (
    <li class="card artifact" id={fieldId(at)} tabIndex={-1}>
      <h2>
        Artifact {n}
        {a.repository && (
          <span class="muted">
            {' '}
            — {a.repository}
            {a.tag ? ':' + a.tag : ''}
          </span>
        )}
      </h2>
      <div class="row">
        <SelectField
          path={`${at}.reference`}
          label={<>Repository<Sr> of artifact {n}</Sr></>}
          placeholder="Choose a repository"
          value={a.repository}
          choices={(repos.data ?? []).filter((r) => r.tags.length).map((r) => ({ value: r.repository, label: r.repository }))}
          onValue={(repository) => edit(i, (x) => ({ ...x, repository, tag: '', digest: '' }))}
        />
        <SelectField
          path={`${at}.tag`}
          label={<>Tag<Sr> of artifact {n}</Sr></>}
          placeholder={a.repository ? 'Choose a tag' : '—'}
          disabled={!a.repository}
          value={a.tag}
          choices={tags.map((t) => ({ value: t.tag, label: tagLabel(t) }))}
          onValue={(tag) => edit(i, (x) => ({ ...x, tag, digest: '' }))}
        />
      </div>
      {a.digest && <p class="hint">Pinned to {a.digest}.</p>}
      <p class="hint live" role="status">
        {waiting.length ? `Reading the platforms of ${a.repository}:${a.tag}…` : ''}
      </p>
      {repos.error ? <Failure error={repos.error} retry={repos.reload} what="The repositories could not be listed" /> : null}

      <h3 id={`${fieldId(at)}-paths`}>Included paths</h3>
      <FieldErrors path={`${at}.includes`} />
      {a.includes.length === 0 ? (
        <p class="muted">Nothing is included yet: nothing is taken from an artifact by default. Pick paths in the tree below.</p>
      ) : (
        <ul class="paths" aria-labelledby={`${fieldId(at)}-paths`}>
          {a.includes.map((p, j) => (
            <li key={p} id={fieldId(`${at}.includes[${j}]`)} tabIndex={-1}>
              <code>{p}</code>{' '}
              <button type="button" class="small secondary" onClick={() => removeInclude(p)}>
                Remove<Sr> include {p}</Sr>
              </button>
              <FieldErrors path={`${at}.includes[${j}]`} />
              {a.excludes.some((e) => under(e, p)) && (
                <ul class="paths excludes" aria-label={`Excluded under ${p}`}>
                  {a.excludes.map((e, k) =>
                    under(e, p) ? (
                      <li key={e} id={fieldId(`${at}.excludes[${k}]`)} tabIndex={-1}>
                        <span class="muted">except</span> <code>{e}</code>{' '}
                        <button type="button" class="small secondary" onClick={() => removeExclude(k)}>
                          Remove<Sr> exclude {e}</Sr>
                        </button>
                        <FieldErrors path={`${at}.excludes[${k}]`} />
                      </li>
                    ) : null,
                  )}
                </ul>
              )}
            </li>
          ))}
        </ul>
      )}
      {orphans.length > 0 && (
        <>
          <p>Excludes under no include (they have no effect; remove them or include a parent):</p>
          <ul class="paths excludes">
            {orphans.map(({ e, j }) => (
              <li key={e} id={fieldId(`${at}.excludes[${j}]`)} tabIndex={-1}>
                <code>{e}</code>{' '}
                <button type="button" class="small secondary" onClick={() => removeExclude(j)}>
                  Remove<Sr> exclude {e}</Sr>
                </button>
                <FieldErrors path={`${at}.excludes[${j}]`} />
              </li>
            ))}
          </ul>
        </>
      )}
      <FieldErrors path={`${at}.excludes`} />
      {a.repository && a.tag ? (
        <details class="tree-box" open>
          <summary>
            Browse the files of {a.repository}:{a.tag}
            {platform && tagPlatforms.includes(platform) ? ` (${platform})` : ''}
          </summary>
          <FileTree
            idPrefix={`a${a.key}`}
            repository={a.repository}
            tag={a.tag}
            platform={tagPlatforms.includes(platform) ? platform : ''}
            includes={a.includes}
            excludes={a.excludes}
            onInclude={include}
            onExclude={exclude}
          />
        </details>
      ) : (
        <p class="muted">Choose the repository and tag to browse the artifact's files.</p>
      )}
      <div class="row">
        <PathAdder at={`${at}.new-include`} label={`Include a path by name (artifact ${n})`} onAdd={include} />
        <PathAdder at={`${at}.new-exclude`} label={`Exclude a path by name (artifact ${n})`} onAdd={exclude} />
      </div>
      <FieldErrors path={at} />
      <div class="card-actions">
        <button type="button" class="secondary" disabled={i === 0} onClick={() => move(i, -1)}>
          Move up<Sr> artifact {n}</Sr>
        </button>
        <button type="button" class="secondary" disabled={i === count - 1} onClick={() => move(i, 1)}>
          Move down<Sr> artifact {n}</Sr>
        </button>
        <button type="button" class="danger" onClick={() => update((x) => ({ ...x, artifacts: x.artifacts.filter((_, j) => j !== i) }))}>
          Remove artifact {n}
        </button>
      </div>
    </li>
  );
}

export function StepArtifacts() {
  const d = useDraft();
  return (
    <>
      <p class="lead">
        Copy paths from your own artifact images into the image, one layer per artifact. Optional.
      </p>
      <p class="rule">
        <strong>Order matters:</strong> artifacts are applied in the order listed — a later artifact overrides an earlier one
        where they write the same path.
      </p>
      <FieldErrors path="contents.artifacts" />
      {d.artifacts.length > 0 && (
        <ol class="cards">
          {d.artifacts.map((a, i) => (
            <Artifact key={a.key} a={a} i={i} count={d.artifacts.length} />
          ))}
        </ol>
      )}
      <button
        type="button"
        class="secondary"
        onClick={() =>
          update((x) => ({ ...x, seq: x.seq + 1, artifacts: [...x.artifacts, { key: x.seq, repository: '', tag: '', digest: '', includes: [], excludes: [] }] }))
        }
      >
        Add artifact
      </button>
    </>
  );
}

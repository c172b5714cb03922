// Step 4: files written into the image — path, content, owner uid/gid and octal mode.
import { FieldErrors, Sr, TextArea, TextField } from '../../components/Field';
import { fieldId, update, useDraft } from '../../state/draft';
import type { FileDraft } from '../../state/draft';

function edit(i: number, patch: Partial<FileDraft>) {
  update((d) => ({ ...d, files: d.files.map((f, j) => (j === i ? { ...f, ...patch } : f)) }));
}

export function StepFiles() {
  const d = useDraft();
  return (
    <>
      <p class="lead">Files written into the image (scripts, configuration), in a layer above the artifacts. Optional.</p>
      <FieldErrors path="files" />
      {d.files.length > 0 && (
        <ol class="cards">
          {d.files.map((f, i) => {
            const at = `files[${i}]`;
            const n = i + 1;
            return (
              <li key={f.key} class="card" id={fieldId(at)} tabIndex={-1}>
                <h2>
                  File {n}
                  {f.path && <span class="muted"> — {f.path}</span>}
                </h2>
                <TextField
                  path={`${at}.path`}
                  label={<>Path<Sr> of file {n}</Sr></>}
                  hint="Absolute, e.g. /docker-entrypoint.d/10-init.sh"
                  value={f.path}
                  spellcheck={false}
                  onValue={(path) => edit(i, { path })}
                />
                <TextArea path={`${at}.content`} label={<>Content<Sr> of file {n}</Sr></>} rows={6} value={f.content} onValue={(content) => edit(i, { content })} />
                <div class="row">
                  <TextField path={`${at}.uid`} class="narrow" label={<>Owner UID<Sr> of file {n}</Sr></>} inputMode="numeric" value={f.uid} onValue={(uid) => edit(i, { uid })} />
                  <TextField path={`${at}.gid`} class="narrow" label={<>Owner GID<Sr> of file {n}</Sr></>} inputMode="numeric" value={f.gid} onValue={(gid) => edit(i, { gid })} />
                  <TextField
                    path={`${at}.mode`}
                    class="narrow"
                    label={<>Mode<Sr> of file {n}</Sr></>}
                    hint="Octal, e.g. 0644 or 0755"
                    value={f.mode}
                    spellcheck={false}
                    onValue={(mode) => edit(i, { mode })}
                  />
                </div>
                <FieldErrors path={at} />
                <div class="card-actions">
                  <button type="button" class="danger" onClick={() => update((x) => ({ ...x, files: x.files.filter((_, j) => j !== i) }))}>
                    Remove file {n}
                  </button>
                </div>
              </li>
            );
          })}
        </ol>
      )}
      <button
        type="button"
        class="secondary"
        onClick={() =>
          update((x) => ({ ...x, seq: x.seq + 1, files: [...x.files, { key: x.seq, path: '', content: '', uid: '0', gid: '0', mode: '0644' }] }))
        }
      >
        Add file
      </button>
    </>
  );
}

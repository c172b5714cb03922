// Step 1: the name, then the source image — a repository of the org, then one of its tags.
import { Failure, Loading, Notice } from '../../components/Notice';
import { SelectField, TextField } from '../../components/Field';
import { emptyDraft, parseReference, setDraft, sourceOf, update, useDraft } from '../../state/draft';
import { tagLabel, tagsOf, useTagPlatforms } from '../../state/catalog';
import { org } from '../../session';
import { useState } from 'preact/hooks';

/** The source typed as a reference (when the catalog offers nothing to choose from). */
function SourceText({ initial }: { initial: string }) {
  const [text, setText] = useState(initial);
  return (
    <TextField
      path="source"
      label="Source image"
      hint={`A repository of ${org()} with its tag, e.g. ${org()}/debian:12.`}
      value={text}
      spellcheck={false}
      onValue={(v) => {
        setText(v);
        update((x) => ({ ...x, ...parseReference(v) }));
      }}
    />
  );
}

export function StepSource() {
  const d = useDraft();
  const { repos, waiting } = useTagPlatforms(d.repository && d.tag ? [d] : []);
  const images = (repos.data ?? []).filter((r) => r.tags.length > 0);
  const tags = tagsOf(repos.data, d.repository);
  return (
    <>
      <p class="lead">
        {d.mode === 'edit'
          ? 'The name of a customization stays; you can move it to another source image.'
          : 'Name the customization and choose the image it customizes: a repository of ' + org() + ', then the version.'}
      </p>
      <TextField
        path="name"
        label="Name"
        hint="Letters, digits, “.”, “_” and “-”, starting with a letter or digit; at most 63 characters."
        value={d.name}
        readOnly={d.mode === 'edit'}
        autoComplete="off"
        spellcheck={false}
        onValue={(name) => update((x) => ({ ...x, name }))}
      />
      {repos.loading && !repos.data && <Loading what="the repositories" />}
      {repos.error ? <Failure error={repos.error} retry={repos.reload} what="The repositories could not be listed" /> : null}
      {repos.data && images.length === 0 && (
        <Notice tone="warn">
          <p>
            tailor knows no image of {org()} yet: it learns the repositories from the registry's notifications, mirror syncs and
            builds. Type the source image below, or push one and reload.
          </p>
        </Notice>
      )}
      {repos.data && images.length > 0 ? (
        <>
          <SelectField
            path="source"
            label="Repository"
            placeholder="Choose a repository"
            value={d.repository}
            choices={images.map((r) => ({ value: r.repository, label: r.mirror ? `${r.repository} (mirror of ${r.mirror.source})` : r.repository }))}
            onValue={(repository) => update((x) => ({ ...x, repository, tag: '', digest: '' }))}
          />
          <SelectField
            path="source.tag"
            label="Version (tag)"
            hint={d.repository ? 'Newest first; the platforms each tag offers are in parentheses.' : 'Choose a repository first.'}
            placeholder={d.repository ? 'Choose a tag' : '—'}
            disabled={!d.repository}
            value={d.tag}
            choices={tags.map((t) => ({ value: t.tag, label: tagLabel(t) }))}
            onValue={(tag) => update((x) => ({ ...x, tag, digest: '' }))}
          />
          {d.digest && <p class="hint">Pinned to {d.digest}.</p>}
          <p class="hint live" role="status">
            {waiting.length ? `Reading the platforms of ${d.repository}:${d.tag}…` : ''}
          </p>
        </>
      ) : (
        repos.data && <SourceText initial={sourceOf(d)} />
      )}
      {d.mode === 'create' && (
        <p>
          <button type="button" class="link-button" onClick={() => setDraft(emptyDraft())}>
            Start over with an empty customization
          </button>
        </p>
      )}
    </>
  );
}

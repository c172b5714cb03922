// Step 7: submit. A new customization (or a copy) is POSTed, an edit PUT with
// `If-Match: "<revision>"`; the body is the YAML Review showed. Problems come back as 422
// `invalid_spec` with `details[]` and are shown at the top and next to each field.
import { useState } from 'preact/hooks';
import { api, ApiError, describe, ok } from '../../api/client';
import type { Spec } from '../../api/client';
import { toYaml } from '../../lib/yaml';
import { navigate } from '../../router';
import { org } from '../../session';
import { flash } from '../../state/flash';
import { clearDraft, compact, draft, resultOf, setDraft, sourceOf, specOf, useDraft } from '../../state/draft';

const yamlBody = { bodySerializer: (b: unknown) => toYaml(b), headers: { 'Content-Type': 'application/yaml' } };

export function StepCreate() {
  const d = useDraft();
  const [busy, setBusy] = useState(false);
  const [conflict, setConflict] = useState<number | null>(null);
  const edit = d.mode === 'edit';

  const submit = async () => {
    const c = compact(draft.value);
    const { spec, problems } = specOf(c);
    if (problems.length) {
      setDraft({ ...c, errors: problems, failure: '' });
      return;
    }
    setBusy(true);
    setConflict(null);
    setDraft({ ...c, errors: [], failure: '' });
    try {
      const created = edit
        ? await ok(
            api.PUT('/v1/orgs/{org}/customizations/{id}', {
              params: { path: { org: org(), id: c.id ?? '' }, header: { 'If-Match': `"${c.revision}"` } },
              body: spec,
              ...yamlBody,
            }),
          )
        : await ok(api.POST('/v1/orgs/{org}/customizations', { params: { path: { org: org() } }, body: spec, ...yamlBody }));
      clearDraft();
      flash.set(
        edit
          ? `Saved ${created.name} as revision ${created.revision}.`
          : `Created ${created.name}; its first build is queued.`,
      );
      navigate(`/customizations/${encodeURIComponent(created.id)}`);
    } catch (e) {
      const cur = draft.value;
      if (e instanceof ApiError && e.details.length && (e.status === 422 || e.status === 400)) {
        setDraft({ ...cur, errors: e.details, failure: e.status === 400 ? e.message : '' });
      } else if (e instanceof ApiError && e.status === 412) {
        const now = /\d+/.exec(e.etag ?? '')?.[0];
        setConflict(now ? Number(now) : null);
        setDraft({ ...cur, errors: [], failure: `This customization was changed by someone else since you started editing it: ${e.message}` });
      } else {
        setDraft({ ...cur, errors: [], failure: describe(e) });
      }
    } finally {
      setBusy(false);
    }
  };

  /** Keep the edits, and compare (and save) against the revision that is current now. */
  const rebase = async () => {
    try {
      const c = await ok(api.GET('/v1/orgs/{org}/customizations/{id}', { params: { path: { org: org(), id: d.id ?? '' } } }));
      setDraft({ ...draft.value, original: c.spec as Spec, revision: c.revision, failure: '', errors: [] });
      setConflict(null);
    } catch (e) {
      setDraft({ ...draft.value, failure: describe(e) });
    }
  };

  return (
    <>
      <p class="lead">
        {edit
          ? `Save the changes as revision ${(d.revision ?? 0) + 1} of ${d.name}: a build of the new revision starts at once.`
          : `Create ${d.name || 'the customization'} from ${sourceOf(d)}: tailor validates it, stores it and starts its first build, which pushes ${resultOf(d)}.`}
      </p>
      {d.failure && conflict !== null && (
        <p>
          <button type="button" class="secondary" onClick={rebase}>
            Keep my changes and compare with revision {conflict}
          </button>
        </p>
      )}
      <p>
        <button type="button" class="primary" disabled={busy} onClick={submit}>
          {edit ? 'Save changes' : 'Create customization'}
        </button>
        {busy && (
          <span class="muted" role="status">
            {' '}
            Submitting…
          </span>
        )}
      </p>
    </>
  );
}

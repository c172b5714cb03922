// The customization wizard: one step per screen (`?step=N`), "Step n of 7" in the heading and
// the title, the step list (aria-current="step"), Back and Next. The draft (state/draft.ts)
// holds every choice, so moving between steps — or reloading — loses nothing. Problems of the
// last submission are summarized at the top of every step, each linking to its control.
import { useEffect, useLayoutEffect, useState } from 'preact/hooks';
import { api, ok } from '../../api/client';
import type { Detail } from '../../api/client';
import { ErrorSummary } from '../../components/ErrorSummary';
import { Errors } from '../../components/Field';
import { Failure, Loading } from '../../components/Notice';
import { Link } from '../../lib/Link';
import { navigate, withQuery } from '../../router';
import { org } from '../../session';
import { STEPS, draft as draftStore, draftOf, emptyDraft, fieldId, setDraft, stepOf, useDraft } from '../../state/draft';
import type { Draft, Mode } from '../../state/draft';
import { StepSource } from './Source';
import { StepPackages } from './Packages';
import { StepArtifacts } from './Artifacts';
import { StepFiles } from './Files';
import { StepConfigure } from './Configure';
import { StepReview } from './Review';
import { StepCreate } from './Create';

export function wizardPath(mode: Mode, id: string | null): string {
  return mode === 'create' || !id ? '/customizations/new' : `/customizations/${encodeURIComponent(id)}/${mode}`;
}

export function stepHref(d: Pick<Draft, 'mode' | 'id'>, step: number, field?: string): string {
  return withQuery(wizardPath(d.mode, d.id), { step }) + (field !== undefined ? '#' + fieldId(field) : '');
}

/** What keeps the person on step `n` (Next): the choices later steps need. */
function gate(d: Draft, n: number): Detail[] {
  const out: Detail[] = [];
  if (n === 1) {
    if (!d.name.trim()) out.push({ field: 'name', problem: 'is required: a name for the customization, e.g. `python-rootca`' });
    if (!d.repository.trim()) out.push({ field: 'source', problem: 'choose the repository of the image to customize' });
    else if (!d.tag.trim()) out.push({ field: 'source.tag', problem: 'choose the version (tag) to customize' });
  }
  if (n === 3)
    d.artifacts.forEach((a, i) => {
      if (!a.repository.trim()) out.push({ field: `contents.artifacts[${i}].reference`, problem: 'choose the artifact repository (or remove the artifact)' });
      else if (!a.tag.trim() && !a.digest.trim()) out.push({ field: `contents.artifacts[${i}].tag`, problem: 'choose the tag of the artifact' });
    });
  if (n === 5 && d.platforms.length === 0) out.push({ field: 'platforms', problem: 'choose at least one platform' });
  return out;
}

export function Wizard({ mode, id, step: rawStep }: { mode: Mode; id: string | null; step: number }) {
  const d = useDraft();
  const step = Math.min(Math.max(Number.isFinite(rawStep) ? Math.trunc(rawStep) : 1, 1), STEPS.length);
  const [loadError, setLoadError] = useState<unknown>(null);
  const [stepProblems, setStepProblems] = useState<Detail[]>([]);
  const ready = d.mode === mode && (mode === 'create' || d.id === id);

  // Start (or resume) the draft of this wizard: an edit follows the current revision.
  useEffect(() => {
    setLoadError(null);
    if (mode === 'create') {
      if (d.mode !== 'create') setDraft(emptyDraft());
      return;
    }
    let live = true;
    ok(api.GET('/v1/orgs/{org}/customizations/{id}', { params: { path: { org: org(), id: id ?? '' } } })).then(
      (c) => {
        if (!live) return;
        const cur = draftStore.value;
        if (cur.mode === mode && cur.id === c.id && (mode === 'copy' || cur.revision === c.revision)) return;
        setDraft(draftOf(c.spec, mode, c.id, c.revision));
      },
      (e) => live && setLoadError(e),
    );
    return () => {
      live = false;
    };
  }, [mode, id]);

  useEffect(() => setStepProblems([]), [step]);

  const title = mode === 'edit' ? `Edit ${d.original?.name ?? 'customization'}` : mode === 'copy' ? 'New customization from a copy' : 'New customization';
  const heading = `${title}: Step ${step} of ${STEPS.length} — ${STEPS[step - 1]}`;
  useLayoutEffect(() => {
    document.title = `Step ${step} of ${STEPS.length}: ${STEPS[step - 1]} — ${title} — tailor`;
  }, [step, title]);

  if (loadError) return <Failure error={loadError} what="The customization could not be loaded" />;
  if (!ready) return <Loading what="the customization" />;

  const go = (n: number) => navigate(stepHref(d, n));
  const next = () => {
    const problems = gate(d, step);
    setStepProblems(problems);
    if (!problems.length) go(step + 1);
  };
  const errors = [...stepProblems, ...d.errors];
  const canLeaveSource = !!(d.name.trim() && d.repository && d.tag);

  const Step = [StepSource, StepPackages, StepArtifacts, StepFiles, StepConfigure, StepReview, StepCreate][step - 1];
  return (
    <Errors.Provider value={errors}>
      <h1>{heading}</h1>
      <nav aria-label="Wizard steps" class="steps">
        <ol>
          {STEPS.map((name, i) => {
            const n = i + 1;
            const current = n === step;
            return (
              <li key={name} class={current ? 'current' : undefined}>
                {current || n === 1 || canLeaveSource ? (
                  <Link href={stepHref(d, n)} aria-current={current ? 'step' : undefined}>
                    <span class="step-number">{n}</span> {name}
                  </Link>
                ) : (
                  <span class="disabled">
                    <span class="step-number">{n}</span> {name}
                  </span>
                )}
              </li>
            );
          })}
        </ol>
      </nav>
      <ErrorSummary errors={errors} failure={d.failure} hrefOf={(f) => (f === '' ? null : stepHref(d, f === 'source.tag' ? 1 : stepOf(f), f))} />
      <form
        class="wizard-step"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          if (step < STEPS.length) next();
        }}
      >
        <Step />
        {step < STEPS.length && (
          <div class="wizard-nav">
            {step > 1 && (
              <button type="button" class="secondary" onClick={() => go(step - 1)}>
                Back
              </button>
            )}
            <button type="submit">Next</button>
          </div>
        )}
        {step === STEPS.length && (
          <div class="wizard-nav">
            <button type="button" class="secondary" onClick={() => go(step - 1)}>
              Back
            </button>
          </div>
        )}
      </form>
    </Errors.Provider>
  );
}

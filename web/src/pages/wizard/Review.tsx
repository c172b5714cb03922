// Step 6: every choice, each section linking back to its step; the YAML that will be
// submitted; for an edit, the diff against the current revision.
import type { ComponentChildren } from 'preact';
import { Link } from '../../lib/Link';
import { diffLines } from '../../lib/diff';
import type { DiffLine } from '../../lib/diff';
import { toYaml } from '../../lib/yaml';
import { canonical, compact, resultOf, sourceOf, specOf, useDraft } from '../../state/draft';
import { stepHref } from './Wizard';

function Section(props: { title: string; step: number; children: ComponentChildren }) {
  const d = useDraft();
  const id = 'review-' + props.title.toLowerCase().replace(/\W+/g, '-');
  return (
    <section class="review-section" aria-labelledby={id}>
      <div class="review-head">
        <h2 id={id}>{props.title}</h2>
        <Link href={stepHref(d, props.step)}>
          Change<span class="sr-only"> {props.title.toLowerCase()}</span>
        </Link>
      </div>
      {props.children}
    </section>
  );
}

function List({ items, empty }: { items: ComponentChildren[]; empty: string }) {
  return items.length ? (
    <ul>
      {items.map((x, i) => (
        <li key={i}>{x}</li>
      ))}
    </ul>
  ) : (
    <p class="muted">{empty}</p>
  );
}

function Pairs({ rows }: { rows: { name: string; value: string }[] }) {
  return <List items={rows.filter((r) => r.name || r.value).map((r) => <><code>{r.name}</code> = <code>{r.value}</code></>)} empty="None." />;
}

/** The changed lines with three lines of context; longer unchanged runs are folded. */
function fold(lines: DiffLine[]): (DiffLine | number)[] {
  const out: (DiffLine | number)[] = [];
  for (let i = 0; i < lines.length; ) {
    if (lines[i].op !== ' ') {
      out.push(lines[i++]);
      continue;
    }
    let j = i;
    while (j < lines.length && lines[j].op === ' ') j++;
    const head = i === 0 ? 0 : 3;
    const tail = j === lines.length ? 0 : 3;
    if (j - i > head + tail + 1) {
      out.push(...lines.slice(i, i + head), j - i - head - tail, ...lines.slice(j - tail, j));
    } else out.push(...lines.slice(i, j));
    i = j;
  }
  return out;
}

export function Diff({ before, after, label }: { before: string; after: string; label: string }) {
  const lines = diffLines(before, after);
  if (!lines.some((l) => l.op !== ' ')) return <p class="muted">No change: the spec is the same as the current revision's.</p>;
  return (
    <pre class="diff" tabIndex={0} aria-label={label}>
      {fold(lines).map((l, i) =>
        typeof l === 'number' ? (
          <span key={i} class="fold">{`  … ${l} unchanged line${l > 1 ? 's' : ''}\n`}</span>
        ) : l.op === '+' ? (
          <ins key={i}>{'+ ' + l.text + '\n'}</ins>
        ) : l.op === '-' ? (
          <del key={i}>{'- ' + l.text + '\n'}</del>
        ) : (
          <span key={i}>{'  ' + l.text + '\n'}</span>
        ),
      )}
    </pre>
  );
}

export function StepReview() {
  const d = compact(useDraft());
  const { spec } = specOf(d);
  const yaml = toYaml(spec);
  return (
    <>
      <p class="lead">Check every choice. Nothing is saved until the next step.</p>
      <Section title="Source" step={1}>
        <dl class="facts">
          <dt>Name</dt>
          <dd>{d.name || <span class="muted">(none)</span>}</dd>
          <dt>Source image</dt>
          <dd>
            <code>{sourceOf(d)}</code>
          </dd>
        </dl>
      </Section>
      <Section title="Packages" step={2}>
        <List items={d.packages.map((p) => <code>{p}</code>)} empty="No packages." />
      </Section>
      <Section title="Artifacts" step={3}>
        {d.artifacts.length ? (
          <ol>
            {d.artifacts.map((a) => (
              <li key={a.key}>
                <code>{spec.contents?.artifacts?.[d.artifacts.indexOf(a)]?.reference}</code>: includes{' '}
                {a.includes.length ? a.includes.map((p, i) => <span key={p}>{i ? ', ' : ''}<code>{p}</code></span>) : 'nothing'}
                {a.excludes.length > 0 && (
                  <>
                    ; excludes {a.excludes.map((p, i) => <span key={p}>{i ? ', ' : ''}<code>{p}</code></span>)}
                  </>
                )}
              </li>
            ))}
          </ol>
        ) : (
          <p class="muted">No artifacts.</p>
        )}
        {d.artifacts.length > 1 && <p class="hint">Applied in this order: later overrides earlier.</p>}
      </Section>
      <Section title="Files" step={4}>
        <List
          items={d.files.map((f) => (
            <>
              <code>{f.path}</code> ({f.content.length} characters, owner {f.uid}:{f.gid}, mode {f.mode})
            </>
          ))}
          empty="No files."
        />
      </Section>
      <Section title="Configuration" step={5}>
        <dl class="facts">
          <dt>Resulting image</dt>
          <dd>
            <code>{resultOf(d)}</code>
          </dd>
          <dt>Platforms</dt>
          <dd>{d.platforms.length ? d.platforms.join(', ') : <span class="muted">none chosen</span>}</dd>
          <dt>Run as</dt>
          <dd>{d.runAs || <span class="muted">the base's user</span>}</dd>
          <dt>ENTRYPOINT arguments</dt>
          <dd>{d.entrypoint.length ? d.entrypoint.map((a) => JSON.stringify(a.value)).join(' ') : <span class="muted">none</span>}</dd>
          <dt>CMD arguments</dt>
          <dd>{d.cmd.length ? d.cmd.map((a) => JSON.stringify(a.value)).join(' ') : <span class="muted">none</span>}</dd>
        </dl>
        <h3>Environment</h3>
        <Pairs rows={d.environment} />
        <h3>Labels</h3>
        <Pairs rows={d.labels} />
        <h3>Annotations</h3>
        <Pairs rows={d.annotations} />
        <h3>Users</h3>
        <List items={d.users.map((u) => <><code>{u.name}</code> (uid {u.uid}, gid {u.gid}{u.home ? `, home ${u.home}` : ''}{u.shell ? `, shell ${u.shell}` : ''})</>)} empty="None added." />
        <h3>Groups</h3>
        <List items={d.groups.map((g) => <><code>{g.name}</code> (gid {g.gid}{g.members ? `, members ${g.members}` : ''})</>)} empty="None added." />
      </Section>
      <section class="review-section" aria-labelledby="review-yaml">
        <h2 id="review-yaml">The YAML that will be submitted</h2>
        <pre class="yaml" tabIndex={0} aria-labelledby="review-yaml" data-testid="spec-yaml">
          {yaml}
        </pre>
      </section>
      {d.mode === 'edit' && d.original && (
        <section class="review-section" aria-labelledby="review-diff">
          <h2 id="review-diff">Changes against revision {d.revision}</h2>
          <Diff before={toYaml(canonical(d.original))} after={yaml} label={`Changes against revision ${d.revision}`} />
        </section>
      )}
    </>
  );
}

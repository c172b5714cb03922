// The problems of a submission at the top of the form: a heading, one link per problem to
// the control it is about (the wizard's links go to the step that edits it). It takes the
// focus when it appears, so the problems are read out.
import { useEffect, useRef } from 'preact/hooks';
import type { Detail } from '../api/client';
import { Link } from '../lib/Link';

/** A person's name for an API field path: `files[0].mode` → "File 1, mode". */
export function describeField(field: string): string {
  if (field === '') return 'The customization';
  const words: Record<string, string> = {
    name: 'Name',
    source: 'Source',
    destination: 'Destination repository',
    tag_suffix: 'Tag suffix',
    platforms: 'Platforms',
    'contents.packages': 'Package',
    'contents.artifacts': 'Artifact',
    files: 'File',
    'accounts.users': 'User',
    'accounts.groups': 'Group',
    'accounts.run_as': 'Run as',
    entrypoint: 'ENTRYPOINT argument',
    cmd: 'CMD argument',
    includes: 'include',
    excludes: 'exclude',
    reference_mapping: 'Reference mapping',
    versions: 'Version pattern',
    members: 'member',
    uid: 'UID',
    gid: 'GID',
    run_as: 'Run as',
  };
  const maps: Record<string, string> = { environment: 'Environment variable', labels: 'Label', annotations: 'Annotation' };
  const m = /^(environment|labels|annotations)\.(.*)$/.exec(field);
  if (m) return `${maps[m[1]]} ${m[2]}`;
  const parts: string[] = [];
  let rest = field;
  const prefixes = Object.keys(words).sort((a, b) => b.length - a.length);
  while (rest) {
    const p = prefixes.find((k) => rest.startsWith(k) && /^(\[|\.|$)/.test(rest.slice(k.length)));
    let word: string;
    if (p) {
      word = words[p];
      rest = rest.slice(p.length);
    } else {
      const seg = /^[^.[]+/.exec(rest)?.[0] ?? rest;
      word = seg.replace(/_/g, ' ');
      rest = rest.slice(seg.length);
    }
    const idx = /^\[(\d+)\]/.exec(rest);
    if (idx) {
      word += ' ' + (Number(idx[1]) + 1);
      rest = rest.slice(idx[0].length);
    }
    parts.push(word);
    rest = rest.replace(/^\./, '');
  }
  return parts.join(', ');
}

export function ErrorSummary(props: { errors: Detail[]; failure?: string; hrefOf: (field: string) => string | null }) {
  const { errors, failure, hrefOf } = props;
  const ref = useRef<HTMLDivElement>(null);
  const key = JSON.stringify([errors, failure]);
  useEffect(() => {
    if (errors.length || failure) ref.current?.focus();
  }, [key]);
  if (!errors.length && !failure) return null;
  const n = errors.length;
  return (
    <div class="error-summary" role="alert" tabIndex={-1} ref={ref} aria-labelledby="error-summary-title">
      <h2 id="error-summary-title">{n > 1 ? `There are ${n} problems` : 'There is a problem'}</h2>
      {failure && <p>{failure}</p>}
      {n > 0 && (
        <ul>
          {errors.map((e, i) => {
            const href = hrefOf(e.field);
            const text = (
              <>
                {describeField(e.field)}
                {e.field && <> (<code>{e.field}</code>)</>}: {e.problem}
              </>
            );
            return <li key={i}>{href ? <Link href={href}>{text}</Link> : text}</li>;
          })}
        </ul>
      )}
    </div>
  );
}

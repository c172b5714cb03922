// Labelled form controls. Each has a visible label, an id derived from its API field path
// (so error summaries can link to it), and shows the problems reported for that path next to
// it (aria-invalid + aria-describedby).
import { createContext } from 'preact';
import type { ComponentChildren, InputHTMLAttributes } from 'preact';
import { useContext } from 'preact/hooks';
import type { Detail } from '../api/client';
import { fieldId } from '../state/draft';

/** The problems the current form shows (the wizard's draft errors, a form's own). */
export const Errors = createContext<Detail[]>([]);

export function useErrors(path: string | undefined, under = false): string[] {
  const all = useContext(Errors);
  return path === undefined ? [] : all.filter((e) => e.field === path || (under && e.field.startsWith(path + '['))).map((e) => e.problem);
}

/** Problems of `path` (and, with `under`, of paths below it no control claims). */
export function FieldErrors({ path, id, under }: { path: string; id?: string; under?: boolean }) {
  const all = useContext(Errors);
  const mine = all.filter((e) => e.field === path || (under && e.field.startsWith(path + '[')));
  if (!mine.length) return null;
  return (
    <ul class="field-errors" id={id}>
      {mine.map((e, i) => (
        <li key={i}>
          <span class="sr-only">Error: </span>
          {e.problem}
        </li>
      ))}
    </ul>
  );
}

interface Common {
  /** API field path: the id, and where its problems are looked up. */
  path: string;
  /** Also show the problems of the items of this field (`tags[2]` under `tags`). */
  under?: boolean;
  label: ComponentChildren;
  hint?: ComponentChildren;
  class?: string;
}

function described(path: string, hint: unknown, errors: string[]) {
  const id = fieldId(path);
  const ids = [hint ? id + '-hint' : '', errors.length ? id + '-error' : ''].filter(Boolean).join(' ');
  return { id, describedBy: ids || undefined, invalid: errors.length ? true : undefined };
}

export function TextField(
  props: Common & {
    value: string;
    onValue: (v: string) => void;
  } & Omit<InputHTMLAttributes<HTMLInputElement>, 'label' | 'value' | 'class'>,
) {
  const { path, label, hint, value, onValue, class: cls, under, ...rest } = props;
  const errors = useErrors(path, under);
  const { id, describedBy, invalid } = described(path, hint, errors);
  return (
    <div class={'field ' + (cls ?? '')}>
      <label for={id}>{label}</label>
      {hint && <p class="hint" id={id + '-hint'}>{hint}</p>}
      <input
        type="text"
        {...rest}
        id={id}
        value={value}
        aria-invalid={invalid}
        aria-describedby={describedBy}
        onInput={(e) => onValue((e.target as HTMLInputElement).value)}
      />
      <FieldErrors path={path} id={id + '-error'} under={under} />
    </div>
  );
}

export function TextArea(
  props: Common & { value: string; onValue: (v: string) => void; rows?: number; spellcheck?: boolean },
) {
  const { path, label, hint, value, onValue, rows, spellcheck, under } = props;
  const errors = useErrors(path, under);
  const { id, describedBy, invalid } = described(path, hint, errors);
  return (
    <div class={'field ' + (props.class ?? '')}>
      <label for={id}>{label}</label>
      {hint && <p class="hint" id={id + '-hint'}>{hint}</p>}
      <textarea
        id={id}
        rows={rows ?? 4}
        spellcheck={spellcheck ?? false}
        value={value}
        aria-invalid={invalid}
        aria-describedby={describedBy}
        onInput={(e) => onValue((e.target as HTMLTextAreaElement).value)}
      />
      <FieldErrors path={path} id={id + '-error'} under={under} />
    </div>
  );
}

export interface Choice {
  value: string;
  label: string;
}

export function SelectField(
  props: Common & { value: string; onValue: (v: string) => void; choices: Choice[]; placeholder?: string; disabled?: boolean },
) {
  const { path, label, hint, value, onValue, choices, placeholder, disabled } = props;
  const errors = useErrors(path);
  const { id, describedBy, invalid } = described(path, hint, errors);
  const known = choices.some((c) => c.value === value);
  return (
    <div class={'field ' + (props.class ?? '')}>
      <label for={id}>{label}</label>
      {hint && <p class="hint" id={id + '-hint'}>{hint}</p>}
      <select
        id={id}
        value={value}
        disabled={disabled}
        aria-invalid={invalid}
        aria-describedby={describedBy}
        onChange={(e) => onValue((e.target as HTMLSelectElement).value)}
      >
        {placeholder !== undefined && <option value="">{placeholder}</option>}
        {!known && value !== '' && <option value={value}>{value} (not in the catalog)</option>}
        {choices.map((c) => (
          <option key={c.value} value={c.value}>
            {c.label}
          </option>
        ))}
      </select>
      <FieldErrors path={path} id={id + '-error'} />
    </div>
  );
}

/** Visually hidden text: part of a control's accessible name, not of the visible layout. */
export function Sr({ children }: { children: ComponentChildren }) {
  return <span class="sr-only">{children}</span>;
}

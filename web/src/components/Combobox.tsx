// A WAI-ARIA 1.2 combobox (editable, list autocomplete): an input with role=combobox that
// opens a listbox of suggestions searched as one types. ArrowDown/ArrowUp move through the
// options (aria-activedescendant; the focus stays in the input), Enter chooses the active
// option — or, with none active, the typed text — Escape closes the list (then clears the
// text), Tab leaves. A click chooses an option too. The "Add" button takes the typed text.
import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { FieldErrors, useErrors } from './Field';
import { fieldId } from '../state/draft';

export interface Option {
  value: string;
  label: string;
  detail?: string;
}

export interface Found {
  options: Option[];
  /** Said about the search (shown, and read out politely): "3 of 12 packages match". */
  status: string;
}

export function Combobox(props: {
  path: string;
  label: ComponentChildren;
  hint?: ComponentChildren;
  addLabel: string;
  search: (q: string) => Promise<Found>;
  onChoose: (value: string) => void;
}) {
  const { path, label, hint, addLabel, search, onChoose } = props;
  const id = fieldId(path);
  const listId = id + '-listbox';
  const [text, setText] = useState('');
  const [open, setOpen] = useState(false);
  const [found, setFound] = useState<Found>({ options: [], status: '' });
  const [active, setActive] = useState(-1);
  const seq = useRef(0);
  const timer = useRef<ReturnType<typeof setTimeout>>();
  const errors = useErrors(path);

  const run = (q: string, delay: number) => {
    clearTimeout(timer.current);
    const n = ++seq.current;
    timer.current = setTimeout(async () => {
      const r = await search(q);
      if (n !== seq.current) return;
      setFound(r);
      setActive(-1);
    }, delay);
  };
  useEffect(() => () => clearTimeout(timer.current), []);

  const choose = (value: string) => {
    const v = value.trim();
    if (!v) return;
    onChoose(v);
    setText('');
    setOpen(false);
    setActive(-1);
    seq.current++;
  };

  const onKeyDown = (e: KeyboardEvent) => {
    const n = found.options.length;
    switch (e.key) {
      case 'ArrowDown':
        e.preventDefault();
        if (!open) {
          setOpen(true);
          run(text, 0);
          if (e.altKey) return;
        }
        if (n) setActive((a) => (a + 1) % n);
        break;
      case 'ArrowUp':
        e.preventDefault();
        if (!open) {
          setOpen(true);
          run(text, 0);
        }
        if (n) setActive((a) => (a <= 0 ? n - 1 : a - 1));
        break;
      case 'Enter':
        e.preventDefault();
        if (open && active >= 0 && active < n) choose(found.options[active].value);
        else choose(text);
        break;
      case 'Escape':
        if (open) {
          e.preventDefault();
          setOpen(false);
          setActive(-1);
        } else if (text) {
          e.preventDefault();
          setText('');
        }
        break;
      case 'Tab':
        setOpen(false);
        setActive(-1);
        break;
    }
  };

  const expanded = open && found.options.length > 0;
  const describedBy = [hint ? id + '-hint' : '', id + '-status', errors.length ? id + '-error' : ''].filter(Boolean).join(' ');
  return (
    <div class="field combobox">
      <label for={id}>{label}</label>
      {hint && <div class="hint" id={id + '-hint'}>{hint}</div>}
      <div class="combobox-row">
        <div class="combobox-wrap">
          <input
            id={id}
            type="text"
            role="combobox"
            autoComplete="off"
            spellcheck={false}
            aria-autocomplete="list"
            aria-expanded={expanded}
            aria-controls={listId}
            aria-activedescendant={expanded && active >= 0 ? `${listId}-${active}` : undefined}
            aria-describedby={describedBy}
            aria-invalid={errors.length ? true : undefined}
            value={text}
            onInput={(e) => {
              const v = (e.target as HTMLInputElement).value;
              setText(v);
              setOpen(true);
              run(v, 150);
            }}
            onKeyDown={onKeyDown}
            onBlur={() => {
              setOpen(false);
              setActive(-1);
            }}
          />
          <ul id={listId} role="listbox" aria-label="Suggestions" class="listbox" hidden={!expanded}>
            {found.options.map((o, i) => (
              <li
                key={o.value}
                id={`${listId}-${i}`}
                role="option"
                aria-selected={i === active}
                class={i === active ? 'active' : undefined}
                onMouseDown={(e) => e.preventDefault()}
                onClick={() => choose(o.value)}
              >
                <span class="option-label">{o.label}</span>
                {o.detail && <span class="option-detail"> — {o.detail}</span>}
              </li>
            ))}
          </ul>
        </div>
        <button type="button" class="secondary" onClick={() => choose(text)}>
          {addLabel}
        </button>
      </div>
      <p id={id + '-status'} class="hint" role="status">
        {found.status}
      </p>
      <FieldErrors path={path} id={id + '-error'} />
    </div>
  );
}

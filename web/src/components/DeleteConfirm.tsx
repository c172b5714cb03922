// Deleting, confirmed by typing the thing's name. The API decides who may (owners): a member
// sees its 403 answer here.
import { useState } from 'preact/hooks';
import { describe } from '../api/client';

export function DeleteConfirm({ name, what, onDelete, memberNote }: { name: string; what: string; onDelete: () => Promise<void>; memberNote?: boolean }) {
  const [typed, setTyped] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    if (typed.trim() !== name) {
      setError(typed.trim() ? `“${typed.trim()}” is not the name: type ${name} exactly to confirm.` : `Type ${name} to confirm.`);
      return;
    }
    setBusy(true);
    setError('');
    try {
      await onDelete();
    } catch (err) {
      setError(describe(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section class="danger-zone" aria-labelledby="delete-title">
      <h2 id="delete-title">Delete this {what}</h2>
      <p>
        Deleting removes the {what} and its builds from tailor; images and charts already pushed stay in the registry.
        {memberNote && ' Only owners may delete: your token is a member’s.'}
      </p>
      <form onSubmit={submit} noValidate>
        <div class="field">
          <label for="confirm-name">
            Type <strong>{name}</strong> to confirm
          </label>
          <input
            id="confirm-name"
            type="text"
            autoComplete="off"
            spellcheck={false}
            value={typed}
            aria-invalid={error ? true : undefined}
            aria-describedby={error ? 'confirm-error' : undefined}
            onInput={(e) => setTyped((e.target as HTMLInputElement).value)}
          />
          {error && (
            <p class="field-errors" id="confirm-error" role="alert">
              {error}
            </p>
          )}
        </div>
        <button type="submit" class="danger" disabled={busy}>
          Delete
        </button>
      </form>
    </section>
  );
}

// Sign in with an API token: `GET /v1/token` says whose it is; kept for this tab only.
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, describe } from '../api/client';
import type { Schemas } from '../api/client';
import { useStore } from '../lib/store';
import { navigate } from '../router';
import { signIn, signOutReason } from '../session';

export function SignIn({ next }: { next: string }) {
  const reason = useStore(signOutReason);
  const [token, setToken] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => {
    document.title = 'Sign in — tailor';
  }, []);

  const submit = async (e: Event) => {
    e.preventDefault();
    const t = token.trim();
    if (!t) {
      setError('Enter your API token: `tailor token create --org ORG --role member` prints one.');
      input.current?.focus();
      return;
    }
    setBusy(true);
    setError('');
    try {
      // Asked directly (not through the client): the token is not the session's yet.
      const r = await fetch('/v1/token', { headers: { Authorization: `Bearer ${t}` } });
      const body = (await r.json().catch(() => null)) as Schemas['Token'] | { error?: { message?: string } } | null;
      if (r.ok && body && 'org' in body) {
        signIn({ token: t, org: body.org, role: body.role, name: body.name });
        navigate(next.startsWith('/') && !next.startsWith('//') && next !== '/sign-in' ? next : '/customizations', { replace: true });
        return;
      }
      const message = body && 'error' in body ? body.error?.message : undefined;
      setError(r.status === 401 ? `This token is not accepted: ${message ?? 'unknown token'}. Check that you copied all of it.` : `Signing in failed (${r.status}): ${message ?? r.statusText}`);
    } catch (err) {
      setError(err instanceof ApiError ? describe(err) : `The API could not be reached: ${describe(err)}`);
    } finally {
      setBusy(false);
    }
    input.current?.focus();
  };

  return (
    <div class="sign-in">
      <h1>Sign in to tailor</h1>
      {reason && (
        <p class="notice warn" role="status">
          {reason}
        </p>
      )}
      <form onSubmit={submit} noValidate>
        <div class="field">
          <label for="token">API token</label>
          <p class="hint" id="token-hint">
            Your org's token (<code>tailor token create</code> prints one). It is kept in this browser tab only, until you sign
            out or close it.
          </p>
          <input
            id="token"
            ref={input}
            type="password"
            autoComplete="off"
            spellcheck={false}
            value={token}
            aria-describedby={error ? 'token-hint token-error' : 'token-hint'}
            aria-invalid={error ? true : undefined}
            onInput={(e) => setToken((e.target as HTMLInputElement).value)}
          />
          {error && (
            <p class="field-errors" id="token-error" role="alert">
              {error}
            </p>
          )}
        </div>
        <button type="submit" class="primary" disabled={busy}>
          Sign in
        </button>
      </form>
    </div>
  );
}

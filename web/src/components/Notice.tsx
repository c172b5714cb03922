import type { ComponentChildren } from 'preact';
import { describe } from '../api/client';

export function Loading({ what }: { what: string }) {
  return (
    <p class="muted" role="status">
      Loading {what}…
    </p>
  );
}

/** A failure to load or do something, with its message and, optionally, a retry. */
export function Failure({ error, retry, what }: { error: unknown; retry?: () => void; what?: string }) {
  return (
    <div class="notice error" role="alert">
      <p>
        {what ? `${what}: ` : ''}
        {describe(error)}
      </p>
      {retry && (
        <button type="button" class="secondary" onClick={retry}>
          Try again
        </button>
      )}
    </div>
  );
}

export function Notice({ children, tone }: { children: ComponentChildren; tone?: 'ok' | 'warn' | 'error' }) {
  return <div class={'notice ' + (tone ?? '')}>{children}</div>;
}

// The signed-in token, for this browser tab only (sessionStorage), with the org, role and
// name `GET /v1/token` told about it.
import { createStore } from './lib/store';
import { navigate } from './router';

export interface Session {
  token: string;
  org: string;
  role: 'owner' | 'member';
  name: string;
}

const KEY = 'tailor.session';

function load(): Session | null {
  try {
    const s = JSON.parse(sessionStorage.getItem(KEY) ?? 'null') as Session | null;
    return s && typeof s.token === 'string' && typeof s.org === 'string' ? s : null;
  } catch {
    return null;
  }
}

export const session = createStore<Session | null>(load());
/** Why the last session ended (shown on the sign-in page), if it did not end by signing out. */
export const signOutReason = createStore<string>('');

export function signIn(s: Session) {
  sessionStorage.setItem(KEY, JSON.stringify(s));
  signOutReason.set('');
  session.set(s);
}

export function signOut(reason = '') {
  sessionStorage.removeItem(KEY);
  signOutReason.set(reason);
  session.set(null);
  navigate('/sign-in');
}

/** The org of the session (pages are shown only when signed in). */
export function org(): string {
  return session.value?.org ?? '';
}

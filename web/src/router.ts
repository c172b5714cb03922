// A tiny router over the History API: the location as a store, `navigate`, and `<Link>`
// (lib/Link.tsx) for in-app links. After a navigation the focus moves to the element the
// hash names, else to the page's heading, so keyboard and screen reader users land on the
// new page.
import { createStore } from './lib/store';

export interface Location {
  path: string;
  query: URLSearchParams;
  hash: string;
}

function read(): Location {
  return {
    path: location.pathname.replace(/\/+$/, '') || '/',
    query: new URLSearchParams(location.search),
    hash: decodeURIComponent(location.hash.replace(/^#/, '')),
  };
}

export const here = createStore<Location>(read());

/** Set by a navigation: move the focus once the new page rendered (see `settleFocus`). */
let pendingFocus = false;

export function navigate(to: string, opts: { replace?: boolean } = {}) {
  const url = new URL(to, location.href);
  if (url.href === location.href && !url.hash) return;
  if (opts.replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  pendingFocus = true;
  here.set(read());
}

window.addEventListener('popstate', () => {
  pendingFocus = true;
  here.set(read());
});

/** Called by pages after they render: focuses `#hash` (an element id) or the `h1`. */
export function settleFocus() {
  if (!pendingFocus) return;
  const { hash } = here.value;
  const target = (hash && focusField(hash)) || document.querySelector<HTMLElement>('main h1');
  if (!target) return;
  pendingFocus = false;
  if (!hash) {
    target.setAttribute('tabindex', '-1');
    target.focus({ preventScroll: true });
    window.scrollTo(0, 0);
  }
}

/** Focuses the element with this id, or the closest one for a field path with a shorter
 * prefix (`files[2].mode` → `files[2]` → `files`); returns it. */
export function focusField(id: string): HTMLElement | null {
  let key = id;
  for (;;) {
    const el = document.getElementById(key);
    if (el) {
      el.focus();
      el.scrollIntoView({ block: 'center' });
      return el;
    }
    const shorter = key.replace(/(\[[^\]]*\]|\.[^.[\]]*|\."[^"]*")$/, '');
    if (shorter === key || !shorter) return null;
    key = shorter;
  }
}

/** `/customizations/:id` against a path: the parameters, or null. */
export function match(pattern: string, path: string): Record<string, string> | null {
  const ps = pattern.split('/');
  const xs = path.split('/');
  if (ps.length !== xs.length) return null;
  const out: Record<string, string> = {};
  for (let i = 0; i < ps.length; i++) {
    if (ps[i].startsWith(':')) out[ps[i].slice(1)] = decodeURIComponent(xs[i]);
    else if (ps[i] !== xs[i]) return null;
  }
  return out;
}

export function withQuery(path: string, query: Record<string, string | number | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

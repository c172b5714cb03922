// The layout (skip link, header with the org and the navigation, main) and the routes.
import { useEffect, useRef } from 'preact/hooks';
import { Link } from './lib/Link';
import { useStore } from './lib/store';
import { here, match, navigate, settleFocus } from './router';
import { session, signOut } from './session';
import { flash } from './state/flash';
import { SignIn } from './pages/SignIn';
import { Customizations } from './pages/Customizations';
import { CustomizationPage } from './pages/Customization';
import { Repositories } from './pages/Repositories';
import { Charts } from './pages/ChartList';
import { ChartPage } from './pages/ChartPage';
import { ChartForm } from './pages/ChartForm';
import { Wizard } from './pages/wizard/Wizard';

function Page({ path, query }: { path: string; query: URLSearchParams }) {
  const build = Number(query.get('build')) || null;
  let m: Record<string, string> | null;
  if (path === '/customizations') return <Customizations source={query.get('source_repository') ?? ''} />;
  if (path === '/customizations/new') return <Wizard mode="create" id={null} step={Number(query.get('step') ?? 1)} />;
  if ((m = match('/customizations/:id/edit', path))) return <Wizard mode="edit" id={m.id} step={Number(query.get('step') ?? 1)} />;
  if ((m = match('/customizations/:id/copy', path))) return <Wizard mode="copy" id={m.id} step={Number(query.get('step') ?? 1)} />;
  if ((m = match('/customizations/:id', path))) return <CustomizationPage id={m.id} build={build} />;
  if (path === '/repositories') return <Repositories />;
  if (path === '/charts') return <Charts />;
  if (path === '/charts/new') return <ChartForm id={null} />;
  if ((m = match('/charts/:id/edit', path))) return <ChartForm id={m.id} />;
  if ((m = match('/charts/:id', path))) return <ChartPage id={m.id} build={build} />;
  return <NotFound />;
}

function NotFound() {
  useEffect(() => {
    document.title = 'Not found — tailor';
  }, []);
  return (
    <>
      <h1>Page not found</h1>
      <p>
        There is no page at this address. Go to the <Link href="/customizations">customizations</Link>.
      </p>
    </>
  );
}

const SECTIONS = [
  ['/customizations', 'Customizations'],
  ['/charts', 'Chart customizations'],
  ['/repositories', 'Repositories'],
] as const;

export function App() {
  const loc = useStore(here);
  const s = useStore(session);
  const message = useStore(flash);
  const flashPath = useRef<string | null>(null);

  // A flash message lives on the page it was set for.
  useEffect(() => {
    if (!message) flashPath.current = null;
    else if (flashPath.current === null) flashPath.current = loc.path;
    else if (flashPath.current !== loc.path) flash.set('');
  }, [loc.path, message]);
  useEffect(() => settleFocus());
  // Pages that load first render their heading later: focus it when it appears.
  useEffect(() => {
    const main = document.getElementById('main');
    if (!main) return;
    const o = new MutationObserver(() => settleFocus());
    o.observe(main, { childList: true, subtree: true });
    return () => o.disconnect();
  }, []);

  const signedIn = !!s;
  const redirect = !signedIn && loc.path !== '/sign-in' ? '/sign-in' : signedIn && (loc.path === '/' || loc.path === '/sign-in') ? '/customizations' : null;
  useEffect(() => {
    if (redirect === '/sign-in') navigate(`/sign-in?next=${encodeURIComponent(loc.path + (location.search || ''))}`, { replace: true });
    else if (redirect) navigate(redirect, { replace: true });
  }, [redirect]);

  return (
    <>
      <a class="skip-link" href="#main">
        Skip to the content
      </a>
      <header class="top">
        <Link class="brand" href={signedIn ? '/customizations' : '/sign-in'}>
          tailor
        </Link>
        {s && (
          <>
            <nav aria-label="Main">
              <ul>
                {SECTIONS.map(([href, label]) => {
                  const current = loc.path === href || loc.path.startsWith(href + '/');
                  return (
                    <li key={href}>
                      <Link href={href} aria-current={current ? 'page' : undefined}>
                        {label}
                      </Link>
                    </li>
                  );
                })}
              </ul>
            </nav>
            <div class="who">
              <span>
                {s.org} · {s.role}
                <span class="sr-only"> (signed in as {s.name})</span>
              </span>
              <button type="button" class="secondary small" onClick={() => signOut()}>
                Sign out
              </button>
            </div>
          </>
        )}
      </header>
      <main id="main" tabIndex={-1}>
        {message && (
          <p class="notice ok" role="status">
            {message}
          </p>
        )}
        {redirect ? null : loc.path === '/sign-in' ? <SignIn next={loc.query.get('next') ?? '/customizations'} /> : <Page path={loc.path} query={loc.query} />}
      </main>
    </>
  );
}

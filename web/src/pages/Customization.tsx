// One customization: what it is, its builds and logs, and what can be done with it —
// Rebuild, Edit, Create new from this, Delete (typing its name).
import { useEffect, useState } from 'preact/hooks';
import { api, describe, ok } from '../api/client';
import { Builds, buildApi } from '../components/Builds';
import { DeleteConfirm } from '../components/DeleteConfirm';
import { Failure, Loading } from '../components/Notice';
import { Link } from '../lib/Link';
import { useAsync } from '../lib/useAsync';
import { toYaml } from '../lib/yaml';
import { navigate, withQuery } from '../router';
import { org, session } from '../session';
import { canonical } from '../state/draft';
import { flash } from '../state/flash';

export function CustomizationPage({ id, build }: { id: string; build: number | null }) {
  const c = useAsync(() => ok(api.GET('/v1/orgs/{org}/customizations/{id}', { params: { path: { org: org(), id } } })), [id]);
  const [refresh, setRefresh] = useState(0);
  const [message, setMessage] = useState('');
  const [busy, setBusy] = useState(false);
  const name = c.data?.name;
  useEffect(() => {
    document.title = `${name ?? 'Customization'} — tailor`;
  }, [name]);
  if (c.error) return <Failure error={c.error} retry={c.reload} what="The customization could not be loaded" />;
  if (!c.data) return <Loading what="the customization" />;
  const x = c.data;
  const base = `/customizations/${encodeURIComponent(x.id)}`;

  const rebuild = async () => {
    setBusy(true);
    setMessage('');
    try {
      const b = await buildApi.trigger('image', x.id);
      setMessage(`Build ${b.number} is ${b.status}.`);
      setRefresh((n) => n + 1);
      navigate(withQuery(base, { build: b.number }), { replace: true });
    } catch (e) {
      setMessage(`Rebuild failed: ${describe(e)}`);
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <div class="page-head">
        <h1>{x.name}</h1>
        <div class="actions">
          <button type="button" class="primary" disabled={busy} onClick={rebuild}>
            Rebuild
          </button>
          <Link class="button secondary" href={`${base}/edit`}>
            Edit
          </Link>
          <Link class="button secondary" href={`${base}/copy`}>
            Create new from this
          </Link>
        </div>
      </div>
      {message && (
        <p class="notice" role="status">
          {message}
        </p>
      )}
      <dl class="facts">
        <dt>Source</dt>
        <dd>
          <code>{x.spec.source}</code>
        </dd>
        <dt>Result</dt>
        <dd>
          <code>{x.result ?? '—'}</code>
        </dd>
        <dt>Platforms</dt>
        <dd>{x.spec.platforms.join(', ')}</dd>
        <dt>Revision</dt>
        <dd>{x.revision}</dd>
        <dt>Id</dt>
        <dd>
          <code>{x.id}</code>
        </dd>
      </dl>
      <details class="spec">
        <summary>Spec of revision {x.revision} (YAML)</summary>
        <pre class="yaml" tabIndex={0} aria-label={`Spec of revision ${x.revision}`}>
          {toYaml(canonical(x.spec))}
        </pre>
      </details>
      <Builds kind="image" id={x.id} basePath={base} selected={build} refreshKey={refresh} />
      <DeleteConfirm
        name={x.name}
        what="customization"
        memberNote={session.value?.role === 'member'}
        onDelete={async () => {
          await ok(api.DELETE('/v1/orgs/{org}/customizations/{id}', { params: { path: { org: org(), id: x.id }, header: { 'If-Match': `"${x.revision}"` } } }));
          flash.set(`Deleted ${x.name}.`);
          navigate('/customizations');
        }}
      />
    </>
  );
}

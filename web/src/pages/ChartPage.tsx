// One chart customization: its mapping, its builds (per-version outputs, logs), Rebuild, Edit
// and Delete (typing its name).
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
import { flash } from '../state/flash';

export function ChartPage({ id, build }: { id: string; build: number | null }) {
  const c = useAsync(() => ok(api.GET('/v1/orgs/{org}/chart-customizations/{id}', { params: { path: { org: org(), id } } })), [id]);
  const [refresh, setRefresh] = useState(0);
  const [message, setMessage] = useState('');
  const name = c.data?.name;
  useEffect(() => {
    document.title = `${name ?? 'Chart customization'} — tailor`;
  }, [name]);
  if (c.error) return <Failure error={c.error} retry={c.reload} what="The chart customization could not be loaded" />;
  if (!c.data) return <Loading what="the chart customization" />;
  const x = c.data;
  const base = `/charts/${encodeURIComponent(x.id)}`;
  const rebuild = async () => {
    setMessage('');
    try {
      const b = await buildApi.trigger('chart', x.id);
      setMessage(`Build ${b.number} is ${b.status}.`);
      setRefresh((n) => n + 1);
      navigate(withQuery(base, { build: b.number }), { replace: true });
    } catch (e) {
      setMessage(`Rebuild failed: ${describe(e)}`);
    }
  };
  return (
    <>
      <div class="page-head">
        <h1>{x.name}</h1>
        <div class="actions">
          <button type="button" class="primary" onClick={rebuild}>
            Rebuild
          </button>
          <Link class="button secondary" href={`${base}/edit`}>
            Edit
          </Link>
        </div>
      </div>
      {message && (
        <p class="notice" role="status">
          {message}
        </p>
      )}
      <dl class="facts">
        <dt>Chart repository</dt>
        <dd>
          <code>{x.source_repository}</code>
        </dd>
        <dt>Destination</dt>
        <dd>
          <code>{x.destination}</code>
        </dd>
        <dt>Versions</dt>
        <dd>{x.spec.versions?.length ? x.spec.versions.join(', ') : 'every version'}</dd>
        <dt>Tag suffix</dt>
        <dd>
          <code>{x.spec.tag_suffix}</code>
        </dd>
        <dt>Revision</dt>
        <dd>{x.revision}</dd>
      </dl>
      <h2>Reference mapping</h2>
      <ul>
        {x.spec.reference_mapping.map((m, i) => (
          <li key={i}>
            <code>{m.from}</code> → <code>{m.to}</code>
          </li>
        ))}
      </ul>
      <details class="spec">
        <summary>Spec of revision {x.revision} (YAML)</summary>
        <pre class="yaml" tabIndex={0} aria-label={`Spec of revision ${x.revision}`}>
          {toYaml(x.spec)}
        </pre>
      </details>
      <Builds kind="chart" id={x.id} basePath={base} selected={build} refreshKey={refresh} />
      <DeleteConfirm
        name={x.name}
        what="chart customization"
        memberNote={session.value?.role === 'member'}
        onDelete={async () => {
          await ok(api.DELETE('/v1/orgs/{org}/chart-customizations/{id}', { params: { path: { org: org(), id: x.id }, header: { 'If-Match': `"${x.revision}"` } } }));
          flash.set(`Deleted ${x.name}.`);
          navigate('/charts');
        }}
      />
    </>
  );
}


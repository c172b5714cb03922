// The org's chart customizations.
import { useEffect } from 'preact/hooks';
import { api, ok } from '../api/client';
import { when } from '../components/Builds';
import { Failure, Loading } from '../components/Notice';
import { Link } from '../lib/Link';
import { useAsync } from '../lib/useAsync';
import { org } from '../session';

export function Charts() {
  const list = useAsync(() => ok(api.GET('/v1/orgs/{org}/chart-customizations', { params: { path: { org: org() } } })), []);
  useEffect(() => {
    document.title = 'Chart customizations — tailor';
  }, []);
  const items = list.data?.chart_customizations ?? [];
  return (
    <>
      <div class="page-head">
        <h1>Chart customizations</h1>
        <Link class="button primary" href="/charts/new">
          New chart customization
        </Link>
      </div>
      <p class="lead">Helm charts whose image references are mapped to {org()}'s own images, for every version, kept rebuilt.</p>
      {list.error ? <Failure error={list.error} retry={list.reload} what="The chart customizations could not be listed" /> : null}
      {list.loading && !list.data && <Loading what="the chart customizations" />}
      {list.data && items.length === 0 && <p class="muted">None yet.</p>}
      {items.length > 0 && (
        <div class="table-wrap">
          <table class="table">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Chart repository</th>
                <th scope="col">Destination</th>
                <th scope="col">Mappings</th>
                <th scope="col">Revision</th>
                <th scope="col">Updated</th>
              </tr>
            </thead>
            <tbody>
              {items.map((c) => (
                <tr key={c.id}>
                  <td>
                    <Link href={`/charts/${encodeURIComponent(c.id)}`}>{c.name}</Link>
                  </td>
                  <td>
                    <code>{c.source_repository}</code>
                  </td>
                  <td>
                    <code>{c.destination}</code>
                  </td>
                  <td>{c.spec.reference_mapping.length}</td>
                  <td>{c.revision}</td>
                  <td>{when(c.updated_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}


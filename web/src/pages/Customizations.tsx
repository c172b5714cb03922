// The org's customizations, filtered by source repository (`?source_repository=`).
import { useEffect, useState } from 'preact/hooks';
import { api, ok } from '../api/client';
import { Failure, Loading } from '../components/Notice';
import { Link } from '../lib/Link';
import { useAsync } from '../lib/useAsync';
import { navigate, withQuery } from '../router';
import { org } from '../session';
import { useRepositories } from '../state/catalog';
import { when } from '../components/Builds';

export function Customizations({ source }: { source: string }) {
  const list = useAsync(
    () => ok(api.GET('/v1/orgs/{org}/customizations', { params: { path: { org: org() }, query: { source_repository: source || undefined } } })),
    [source],
  );
  const repos = useRepositories();
  const [filter, setFilter] = useState(source);
  useEffect(() => setFilter(source), [source]);
  useEffect(() => {
    document.title = 'Customizations — tailor';
  }, []);
  const choices = (repos.data ?? []).map((r) => r.repository);
  if (source && !choices.includes(source)) choices.unshift(source);
  const items = list.data?.customizations ?? [];
  return (
    <>
      <div class="page-head">
        <h1>Customizations</h1>
        <Link class="button primary" href="/customizations/new">
          New customization
        </Link>
      </div>
      <form
        class="filter"
        onSubmit={(e) => {
          e.preventDefault();
          navigate(withQuery('/customizations', { source_repository: filter }));
        }}
      >
        <div class="field">
          <label for="filter-source">Source repository</label>
          <select id="filter-source" value={filter} onChange={(e) => setFilter((e.target as HTMLSelectElement).value)}>
            <option value="">All repositories</option>
            {choices.map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </select>
        </div>
        <button type="submit" class="secondary">
          Filter
        </button>
      </form>
      {list.error ? <Failure error={list.error} retry={list.reload} what="The customizations could not be listed" /> : null}
      {list.loading && !list.data && <Loading what="the customizations" />}
      {list.data && items.length === 0 && (
        <p class="muted">{source ? `No customization builds from ${source}.` : 'No customizations yet: create the first one.'}</p>
      )}
      {items.length > 0 && (
        <div class="table-wrap">
          <table class="table">
            <caption class="sr-only">{source ? `Customizations of ${source}` : 'All customizations'}</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Source</th>
                <th scope="col">Result</th>
                <th scope="col">Revision</th>
                <th scope="col">Updated</th>
              </tr>
            </thead>
            <tbody>
              {items.map((c) => (
                <tr key={c.id}>
                  <td>
                    <Link href={`/customizations/${encodeURIComponent(c.id)}`}>{c.name}</Link>
                  </td>
                  <td>
                    <code>{c.spec.source}</code>
                  </td>
                  <td>
                    <code>{c.result ?? '—'}</code>
                  </td>
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

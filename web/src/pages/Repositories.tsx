// The org's repositories with their tags and platforms (mirrored ones marked), and its
// mirrors: owners add them (from a declared upstream), sync and delete them; everyone sees
// their last sync, tag by tag.
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, describe, ok } from '../api/client';
import type { Detail, Mirror, Sync } from '../api/client';
import { Status, when } from '../components/Builds';
import { ErrorSummary } from '../components/ErrorSummary';
import { Errors, SelectField, TextArea, TextField } from '../components/Field';
import { Failure, Loading } from '../components/Notice';
import { Link } from '../lib/Link';
import { useAsync, useInterval } from '../lib/useAsync';
import { withQuery } from '../router';
import { org, session } from '../session';
import { repositories, tagPlatformsText } from '../state/catalog';
import { fieldId } from '../state/draft';

function SyncTags({ mirror, number }: { mirror: string; number: number }) {
  const s = useAsync(() => ok(api.GET('/v1/orgs/{org}/mirrors/{id}/syncs/{number}', { params: { path: { org: org(), id: mirror, number } } })), [mirror, number]);
  const running = !!s.data && (s.data.status === 'queued' || s.data.status === 'running');
  useInterval(() => void s.reload(), 1000, running);
  if (s.error) return <Failure error={s.error} retry={s.reload} what={`Sync ${number} could not be read`} />;
  if (!s.data) return <Loading what={`sync ${number}`} />;
  const x: Sync = s.data;
  return (
    <div class="sync">
      <p>
        Sync {x.number} <Status status={x.status} /> — {x.reason}; finished {when(x.finished_at)}
        {x.error && <span class="error-text"> — {x.error}</span>}
      </p>
      {x.tags.length > 0 && (
        <table class="table">
          <caption class="sr-only">Tags of sync {x.number}</caption>
          <thead>
            <tr>
              <th scope="col">Tag</th>
              <th scope="col">Action</th>
              <th scope="col">Digest</th>
              <th scope="col">Reason</th>
            </tr>
          </thead>
          <tbody>
            {x.tags.map((t) => (
              <tr key={t.tag}>
                <td>
                  <code>{t.tag}</code>
                </td>
                <td>
                  <Status status={t.action} />
                </td>
                <td>
                  <code class="digest">{t.digest ?? '—'}</code>
                </td>
                <td>{t.reason ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

function MirrorRow({ m, onChange }: { m: Mirror; onChange: () => void }) {
  const [shown, setShown] = useState<number | null>(null);
  const [confirm, setConfirm] = useState(false);
  const [message, setMessage] = useState('');
  const sync = async () => {
    setMessage('');
    try {
      const s = await ok(api.POST('/v1/orgs/{org}/mirrors/{id}/syncs', { params: { path: { org: org(), id: m.id } } }));
      setMessage(`Sync ${s.number} is ${s.status}.`);
      setShown(s.number);
      onChange();
    } catch (e) {
      setMessage(describe(e));
    }
  };
  const remove = async () => {
    setMessage('');
    try {
      await ok(api.DELETE('/v1/orgs/{org}/mirrors/{id}', { params: { path: { org: org(), id: m.id }, header: { 'If-Match': `"${m.revision}"` } } }));
      onChange();
    } catch (e) {
      setMessage(describe(e));
      setConfirm(false);
    }
  };
  return (
    <li class="card">
      <h3>
        <code>{m.source}</code> → <code>{m.destination}</code>
      </h3>
      <dl class="facts">
        <dt>Tags</dt>
        <dd>{m.tags.length ? m.tags.join(', ') : 'every tag'}</dd>
        <dt>Signatures</dt>
        <dd>{m.verify_keys.length ? `verified with ${m.verify_keys.length} key${m.verify_keys.length > 1 ? 's' : ''}` : 'not verified'}</dd>
        <dt>Polled</dt>
        <dd>{m.poll_interval_s ? `every ${m.poll_interval_s} s` : 'never (notifications and “Sync now” only)'}</dd>
        <dt>Last sync</dt>
        <dd>
          {m.last_sync ? (
            <>
              {m.last_sync.number} <Status status={m.last_sync.status} /> {when(m.last_sync.finished_at)}
              {m.last_sync.error && <span class="error-text"> — {m.last_sync.error}</span>}
            </>
          ) : (
            'none yet'
          )}
        </dd>
      </dl>
      {message && (
        <p class="notice" role="status">
          {message}
        </p>
      )}
      <div class="card-actions">
        <button type="button" onClick={sync}>
          Sync now<span class="sr-only"> {m.destination}</span>
        </button>
        {m.last_sync && shown === null && (
          <button type="button" class="secondary" onClick={() => setShown(m.last_sync!.number)}>
            Show the last sync<span class="sr-only"> of {m.destination}</span>
          </button>
        )}
        {!confirm ? (
          <button type="button" class="danger" onClick={() => setConfirm(true)}>
            Delete mirror<span class="sr-only"> {m.destination}</span>
          </button>
        ) : (
          <span class="confirm" role="group" aria-label="Confirm deletion">
            Delete the mirror into {m.destination}? Its images stay.{' '}
            <button type="button" class="danger" onClick={remove}>
              Yes, delete mirror {m.destination}
            </button>{' '}
            <button type="button" class="secondary" onClick={() => setConfirm(false)}>
              Cancel
            </button>
          </span>
        )}
      </div>
      {shown !== null && <SyncTags mirror={m.id} number={shown} />}
    </li>
  );
}

function AddMirror({ upstreams, onAdded }: { upstreams: string[]; onAdded: () => void }) {
  const [host, setHost] = useState(upstreams[0] ?? '');
  const [repo, setRepo] = useState('');
  const [destination, setDestination] = useState('');
  const [tags, setTags] = useState('');
  const [keys, setKeys] = useState('');
  const [poll, setPoll] = useState('300');
  const [errors, setErrors] = useState<Detail[]>([]);
  const [failure, setFailure] = useState('');
  const [done, setDone] = useState('');
  const submit = async (e: Event) => {
    e.preventDefault();
    setDone('');
    const problems: Detail[] = [];
    if (!host) problems.push({ field: 'source', problem: 'choose the upstream registry' });
    if (!repo.trim()) problems.push({ field: 'source.repository', problem: 'type the repository on the upstream, e.g. python' });
    if (!/^\d+$/.test(poll.trim())) problems.push({ field: 'poll_interval_s', problem: 'a whole number of seconds: 0 (never) or 30 to 604800' });
    setErrors(problems);
    setFailure('');
    if (problems.length) return;
    const body = {
      source: `${host}/${repo.trim().replace(/^\/+/, '')}`,
      destination: destination.trim() || undefined,
      tags: tags.split(/[\s,]+/).filter(Boolean),
      verify_keys: keys.trim() ? keys.split(/(?<=-----END PUBLIC KEY-----)\s*/).map((k) => k.trim()).filter(Boolean) : [],
      poll_interval_s: Number(poll.trim()),
    };
    try {
      const m = await ok(api.POST('/v1/orgs/{org}/mirrors', { params: { path: { org: org() } }, body }));
      setDone(`Mirror of ${m.source} into ${m.destination} added; its first sync is ${m.sync.status}.`);
      setRepo('');
      setDestination('');
      setTags('');
      setKeys('');
      onAdded();
    } catch (err) {
      if (err instanceof ApiError && err.details.length) setErrors(err.details);
      else setFailure(describe(err));
    }
  };
  return (
    <Errors.Provider value={errors}>
      <form class="card" onSubmit={submit} noValidate aria-labelledby="add-mirror-title">
        <h2 id="add-mirror-title">Add a mirror</h2>
        <ErrorSummary errors={errors} failure={failure} hrefOf={(f) => (f ? '#' + fieldId(f) : null)} />
        {done && (
          <p class="notice ok" role="status">
            {done}
          </p>
        )}
        <div class="row">
          <SelectField path="source" label="Upstream registry" value={host} choices={upstreams.map((u) => ({ value: u, label: u }))} onValue={setHost} />
          <TextField path="source.repository" label="Repository on the upstream" hint="e.g. python (no tag)" value={repo} spellcheck={false} onValue={setRepo} />
        </div>
        <TextField
          path="destination"
          label="Destination (optional)"
          hint={`A repository of ${org()}; by default ${org()}/dhi-<last segment of the repository>.`}
          value={destination}
          spellcheck={false}
          onValue={setDestination}
        />
        <TextField path="tags" under label="Tags (optional)" hint="Globs separated by spaces or commas, e.g. 3.13* 3.12; empty: every tag." value={tags} spellcheck={false} onValue={setTags} />
        <TextArea
          path="verify_keys"
          under
          label="Signature keys (optional)"
          hint="PEM public keys (ECDSA P-256, as cosign writes them): a tag is copied only when one of them verifies its signature."
          value={keys}
          onValue={setKeys}
        />
        <TextField path="poll_interval_s" class="narrow" label="Poll interval (seconds)" hint="0: never poll." inputMode="numeric" value={poll} onValue={setPoll} />
        <button type="submit" class="primary">
          Add mirror
        </button>
      </form>
    </Errors.Provider>
  );
}

export function Repositories() {
  const repos = useAsync(() => repositories(true), []);
  const mirrors = useAsync(() => ok(api.GET('/v1/orgs/{org}/mirrors', { params: { path: { org: org() } } })), []);
  const upstreams = useAsync(() => ok(api.GET('/v1/upstreams')), []);
  useEffect(() => {
    document.title = 'Repositories — tailor';
  }, []);
  const owner = session.value?.role === 'owner';
  const reload = () => {
    void mirrors.reload();
    void repos.reload();
  };
  return (
    <>
      <h1>Repositories</h1>
      <section aria-labelledby="repos-title">
        <h2 id="repos-title">Repositories of {org()}</h2>
        {repos.error ? <Failure error={repos.error} retry={repos.reload} what="The repositories could not be listed" /> : null}
        {repos.loading && !repos.data && <Loading what="the repositories" />}
        {repos.data && repos.data.length === 0 && <p class="muted">None yet: tailor learns them from registry notifications, mirror syncs and builds.</p>}
        {repos.data && repos.data.length > 0 && (
          <div class="table-wrap">
            <table class="table">
              <thead>
                <tr>
                  <th scope="col">Repository</th>
                  <th scope="col">Tags and platforms</th>
                  <th scope="col">Mirror</th>
                </tr>
              </thead>
              <tbody>
                {repos.data.map((r) => (
                  <tr key={r.repository}>
                    <td>
                      <code>{r.repository}</code>
                      <div>
                        <Link href={withQuery('/customizations', { source_repository: r.repository })}>
                          Customizations<span class="sr-only"> of {r.repository}</span>
                        </Link>
                      </div>
                    </td>
                    <td>
                      <ul class="compact">
                        {r.tags.map((t) => (
                          <li key={t.tag}>
                            <code>{t.tag}</code> <span class="muted">{tagPlatformsText(t)}</span>
                          </li>
                        ))}
                      </ul>
                    </td>
                    <td>
                      {r.mirror ? (
                        <>
                          mirror of <code>{r.mirror.source}</code>
                          {r.mirror.last_sync && (
                            <div>
                              last sync {r.mirror.last_sync.number} <Status status={r.mirror.last_sync.status ?? 'unknown'} /> {when(r.mirror.last_sync.finished_at)}
                            </div>
                          )}
                        </>
                      ) : (
                        <span class="muted">—</span>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
      <section aria-labelledby="mirrors-title">
        <h2 id="mirrors-title">Mirrors</h2>
        <p class="hint">Vendor repositories copied into {org()} byte for byte and kept in sync.{!owner && ' Only owners add, sync and delete mirrors.'}</p>
        {mirrors.error ? <Failure error={mirrors.error} retry={mirrors.reload} what="The mirrors could not be listed" /> : null}
        {mirrors.data && mirrors.data.mirrors.length === 0 && <p class="muted">No mirrors.</p>}
        {mirrors.data && mirrors.data.mirrors.length > 0 && (
          <ul class="cards">
            {mirrors.data.mirrors.map((m) => (
              <MirrorRow key={m.id} m={m} onChange={reload} />
            ))}
          </ul>
        )}
        {upstreams.error ? <Failure error={upstreams.error} what="The upstream registries could not be listed" /> : null}
        {upstreams.data && upstreams.data.upstreams.length === 0 && (
          <p class="muted">No upstream registry is declared, so no mirror can be added: the operator declares them (<code>tailor up --upstream HOST=URL</code>).</p>
        )}
        {upstreams.data && upstreams.data.upstreams.length > 0 && <AddMirror upstreams={upstreams.data.upstreams} onAdded={reload} />}
      </section>
    </>
  );
}

// The world the browser tests run in, all on 127.0.0.1 and free ports: the real Distribution
// registry (`docker-registry`, notifications pointed at tailor), `tailor up` serving the real
// components (the API and the UI built from web/dist) with a worker polling every second, a
// gpg-signed flat apt repository of real .deb files served from this process, images pushed
// with `tailor artifact push` (a small fake Debian base, artifacts with nested files), and
// optionally a real Helm chart. No build runs first: the pushes' notifications make the
// platforms known, the package step's questions the base's OS and catalog. Everything started
// is stopped (its process group killed) by `stop()`; logs stay in the stack's directory when a
// test fails.
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, createReadStream, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, openSync } from 'node:fs';
import { createServer } from 'node:http';
import net from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const WEB = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const ROOT = resolve(WEB, '..');
const TARGET = process.env.CARGO_TARGET_DIR ? resolve(process.env.CARGO_TARGET_DIR) : join(ROOT, 'target');
export const TAILOR = process.env.TAILOR_BIN ?? join(TARGET, 'debug/tailor');
const CACHE = join(homedir(), '.cache/tailor-test');
const DEBS = process.env.TAILOR_TEST_DEBS ?? join(CACHE, 'debs');
const HELM_PYTHON = process.env.TAILOR_TEST_HELM_PYTHON ?? join(CACHE, 'helm-python-sdk-0.2.2/bin/python');
const SECRET = 'web-tests-webhook-secret';

/** `n` distinct ports free right now (each held until all are found, so none is given twice). */
export async function freePorts(n) {
  const servers = [];
  try {
    for (let i = 0; i < n; i++) {
      const s = net.createServer();
      s.unref();
      await new Promise((res, rej) => {
        s.on('error', rej);
        s.listen(0, '127.0.0.1', res);
      });
      servers.push(s);
    }
    return servers.map((s) => s.address().port);
  } finally {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  }
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Runs a command to completion; its stdout. Throws with stderr on failure. */
function run(cmd, args, opts = {}) {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  } catch (e) {
    throw new Error(`${cmd} ${args.join(' ')} failed: ${e.stderr || e.message}`);
  }
}

async function waitFor(what, f, timeoutMs = 60_000, everyMs = 250) {
  const end = Date.now() + timeoutMs;
  let last;
  while (Date.now() < end) {
    try {
      const v = await f();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    await sleep(everyMs);
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${last.message}` : ''}`);
}

function write(path, text) {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}

/** A small Debian bookworm base: os-release, accounts, and a dpkg database in which libc6 is
 * installed (what the packages of the test repository need beyond themselves). */
function debianBase(dir) {
  write(join(dir, 'etc/os-release'), 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nID=debian\nVERSION_ID="12"\nVERSION="12 (bookworm)"\nVERSION_CODENAME=bookworm\n');
  write(join(dir, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n');
  write(join(dir, 'etc/group'), 'root:x:0:\nnogroup:x:65534:\n');
  write(
    join(dir, 'var/lib/dpkg/status'),
    'Package: libc6\nStatus: install ok installed\nPriority: optional\nSection: libs\nInstalled-Size: 12000\nMaintainer: GNU Libc Maintainers <debian-glibc@lists.debian.org>\nArchitecture: amd64\nMulti-Arch: same\nSource: glibc\nVersion: 2.36-9+deb12u10\nDescription: GNU C Library: Shared libraries\n\n',
  );
  mkdirSync(join(dir, 'var/lib/dpkg/info'), { recursive: true });
  write(join(dir, 'usr/share/doc/base/README'), 'a fake Debian base for the web UI tests\n');
}

/** An artifact with nested files (what the tree is browsed for). */
function toolsArtifact(dir, version) {
  write(join(dir, 'opt/tools/bin/tool'), `#!/bin/sh\necho tool ${version}\n`);
  write(join(dir, 'opt/tools/share/doc/README.md'), `# tools ${version}\n`);
  write(join(dir, 'opt/tools/tmp/cache.db'), 'scratch\n');
  write(join(dir, 'opt/tools/tmp/lock'), '');
  write(join(dir, 'etc/tools/tools.conf'), `version=${version}\n`);
}

/** A signed flat apt repository of the cached .debs, served by this process. */
async function aptRepository(dir) {
  const repo = join(dir, 'apt/repo');
  mkdirSync(repo, { recursive: true });
  if (!existsSync(DEBS)) throw new Error(`${DEBS} is missing: tests/run.sh caches the .deb files there (set TAILOR_TEST_DEBS)`);
  for (const f of readdirSync(DEBS).filter((f) => f.endsWith('.deb'))) copyFileSync(join(DEBS, f), join(repo, f));
  writeFileSync(join(repo, 'Packages'), run('apt-ftparchive', ['packages', '.'], { cwd: repo }));
  const release = run('apt-ftparchive', ['release', '.'], { cwd: repo });
  writeFileSync(join(repo, 'Release'), release);
  const home = join(dir, 'apt/gnupg');
  mkdirSync(home, { recursive: true, mode: 0o700 });
  const gpg = (args) => run('gpg', ['--batch', '--quiet', '--homedir', home, ...args]);
  gpg(['--pinentry-mode', 'loopback', '--passphrase', '', '--quick-gen-key', 'tailor web tests <web@example.org>', 'ed25519', 'sign', 'never']);
  gpg(['--yes', '--clearsign', '-o', join(repo, 'InRelease'), join(repo, 'Release')]);
  const key = join(dir, 'apt/key.asc');
  writeFileSync(key, gpg(['--armor', '--export']));
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    const file = resolve(dir, 'apt', '.' + path);
    if (!file.startsWith(join(dir, 'apt') + '/') || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404).end('not found\n');
      return;
    }
    res.writeHead(200, { 'content-length': statSync(file).size });
    createReadStream(file).pipe(res);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address();
  const repos = join(dir, 'repositories.yaml');
  writeFileSync(repos, `debian:\n  - {url: 'http://127.0.0.1:${port}/repo', suite: ./, keys: ['${key}']}\n`);
  return { server, repos };
}

function spawnGroup(cmd, args, log, opts = {}) {
  const fd = openSync(log, 'a');
  const child = spawn(cmd, args, { detached: true, stdio: ['ignore', opts.stdout ?? fd, fd], ...opts.spawn });
  return child;
}

function killGroup(child) {
  if (!child || child.exitCode !== null) return Promise.resolve();
  return new Promise((res) => {
    const t = setTimeout(() => {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {}
      res();
    }, 5000);
    child.once('exit', () => {
      clearTimeout(t);
      res();
    });
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {
      clearTimeout(t);
      res();
    }
  });
}

/**
 * Starts everything. Options: `chart` (push the fixture Helm chart acme/web), `upstream` (declare
 * the registry itself as an upstream, with vendor/app:1 pushed to mirror).
 */
export async function startStack(opts = {}) {
  for (const f of [TAILOR, join(TARGET, 'wasm32-wasip2/wasm/tailor_api.wasm'), join(TARGET, 'wasm32-wasip2/wasm/tailor_ui.wasm')])
    if (!existsSync(f)) throw new Error(`${f} is missing: build the Rust side first (see web/README.md)`);
  const uiWasm = statSync(join(TARGET, 'wasm32-wasip2/wasm/tailor_ui.wasm')).mtimeMs;
  const distIndex = statSync(join(WEB, 'dist/index.html')).mtimeMs;
  if (distIndex > uiWasm)
    console.error('# warning: web/dist is newer than tailor_ui.wasm: rebuild tailor-ui so that the service serves this build');

  const dir = mkdtempSync(join(tmpdir(), 'tailor-web-'));
  const stack = new Stack(dir);
  const children = stack.children;
  try {
    // The apt repository listens first, so that the ports reserved next cannot be its own.
    const { server, repos } = await aptRepository(dir);
    stack.apt = server;
    const [rport, tport] = await freePorts(2);
    const registry = `http://127.0.0.1:${rport}`;
    const url = `http://127.0.0.1:${tport}`;
    write(
      join(dir, 'registry.yml'),
      `version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: ${join(dir, 'registry')}
  delete:
    enabled: true
http:
  addr: 127.0.0.1:${rport}
notifications:
  endpoints:
    - name: tailor
      url: ${url}/v1/hooks/registry
      headers: {Authorization: [Bearer ${SECRET}]}
      timeout: 2s
      threshold: 5
      backoff: 1s
      ignore:
        mediatypes: [application/octet-stream]
        actions: [pull]
`,
    );
    children.push(spawnGroup('docker-registry', ['serve', join(dir, 'registry.yml')], join(dir, 'registry.log')));
    await waitFor('the registry', async () => (await fetch(`${registry}/v2/`)).ok, 20_000);

    const manifest = readFileSync(join(ROOT, 'spin.toml'), 'utf8').replaceAll('source = "target/', `source = "${TARGET}/`);
    writeFileSync(join(dir, 'spin.toml'), manifest);
    const data = join(dir, 'data');
    const args = ['up', '--data', data, '--manifest', join(dir, 'spin.toml'), '--listen', `127.0.0.1:${tport}`, '--registry', registry];
    args.push('--poll-interval', '1s', '--repositories', repos, '--webhook', `registry=${SECRET}`);
    if (opts.upstream) args.push('--upstream', `127.0.0.1:${rport}=${registry}`);
    const up = spawnGroup(TAILOR, args, join(dir, 'tailor.log'), { stdout: 'pipe', spawn: { env: { ...process.env, HOME: dir } } });
    children.push(up);
    let out = '';
    up.stdout.on('data', (b) => (out += b));
    await waitFor(
      '`tailor up` to listen',
      () => {
        if (up.exitCode !== null) throw new Error(`tailor up exited (${up.exitCode}); see ${join(dir, 'tailor.log')}`);
        return out.includes('listening on http://');
      },
      60_000,
      100,
    ).catch((e) => {
      throw new Error(`${e.message}\n${out}\n${readFileSync(join(dir, 'tailor.log'), 'utf8').slice(-3000)}`);
    });
    Object.assign(stack, { url, registry, rport, data });

    const token = (role) => run(TAILOR, ['token', 'create', '--org', 'acme', '--role', role, '--data', data]).trim().split('\n').pop().trim();
    stack.owner = token('owner');
    stack.member = token('member');

    // Images: a Debian base (three platforms), artifacts (two platforms, one platform).
    // No build runs first: each push's notification makes a worker read the tag's platforms,
    // and the package picker's first question has one read the base's OS and its catalog.
    debianBase(join(dir, 'img/debian'));
    toolsArtifact(join(dir, 'img/tools1'), '1');
    stack.push(join(dir, 'img/debian'), 'acme/debian:12', 'linux/amd64,linux/arm64,linux/arm/v7');
    stack.push(join(dir, 'img/tools1'), 'acme/tools:1', 'linux/amd64,linux/arm64');
    if (opts.upstream) {
      write(join(dir, 'img/vendor/srv/app/VERSION'), '1\n');
      stack.push(join(dir, 'img/vendor'), 'vendor/app:1', 'linux/amd64');
    }
    if (opts.chart) {
      if (!existsSync(HELM_PYTHON)) throw new Error(`${HELM_PYTHON} is missing: tests/run.sh installs helm-python-sdk (TAILOR_TEST_HELM_PYTHON)`);
      const helm = (args) => JSON.parse(run(HELM_PYTHON, [join(ROOT, 'tests/tools/helm.py'), ...args]).trim().split('\n').pop());
      const pkg = helm(['package', join(ROOT, 'tests/fixtures/charts/web'), join(dir, 'charts')]);
      helm(['push', pkg.path, `oci://127.0.0.1:${rport}/acme`]);
    }
    await waitFor('the pushes in the catalog', async () => {
      const r = await stack.api('GET', '/v1/orgs/acme/repositories');
      const names = r.body.repositories.map((x) => x.repository);
      return ['acme/debian', 'acme/tools', ...(opts.chart ? ['acme/web'] : [])].every((n) => names.includes(n));
    });

    stack.ok = true;
    return stack;
  } catch (e) {
    await stack.stop();
    throw e;
  }
}

export class Stack {
  constructor(dir) {
    this.dir = dir;
    this.children = [];
    this.ok = false;
  }

  /** Pushes the directory `src` as image `tag` (a notification then tells tailor). */
  push(src, tag, platforms) {
    run(TAILOR, ['artifact', 'push', src, '--tag', tag, '--platform', platforms, '--registry', this.registry, '-q']);
  }

  /** The API as the owner (or `token`): `{status, body, text, headers}`. */
  async api(method, path, body, token) {
    const headers = { Authorization: `Bearer ${token ?? this.owner}` };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const r = await fetch(this.url + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await r.text();
    let parsed = null;
    try {
      parsed = JSON.parse(text);
    } catch {}
    return { status: r.status, body: parsed, text, headers: r.headers };
  }

  /** Waits until build `n` of a customization (or chart customization) is done. */
  async waitBuild(id, n, kind = 'customizations', timeoutMs = 120_000) {
    return waitFor(
      `build ${n} of ${id}`,
      async () => {
        const r = await this.api('GET', `/v1/orgs/acme/${kind}/${id}/builds/${n}`);
        return r.status === 200 && !['queued', 'running'].includes(r.body.status) ? r.body : null;
      },
      timeoutMs,
      300,
    );
  }

  log() {
    return existsSync(join(this.dir, 'tailor.log')) ? readFileSync(join(this.dir, 'tailor.log'), 'utf8') : '';
  }

  async stop() {
    await Promise.all(this.children.map(killGroup));
    if (this.apt) await new Promise((r) => this.apt.close(r));
    if (this.ok && !process.env.TAILOR_KEEP) rmSync(this.dir, { recursive: true, force: true });
    else console.error(`# the stack's files and logs: ${this.dir}`);
  }
}

// The other pages end to end: repositories and mirrors (add from a declared upstream, sync,
// the sync's tags, delete), chart customizations (references discovered in the chart offered
// as `from`s, the draft kept across a reload, create, the build's per-version outputs and
// log, edit, a validation failure), a files-only image pushed during the test (its platforms
// waited for, no package database), a catalog that cannot be read, an edit that lost a race,
// a member's 403 on Delete, and the built JavaScript's gzipped size (the first page's time to
// interactive is measured by tests/bench/ui.py with scripts/bench-page.mjs, not here).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sleep, startStack, WEB } from './harness.mjs';
import { RESULTS, screenshots, axe, launch, newPage, noProblems, shot, signIn } from './browser.mjs';

let stack;
let browser;
let page;
let failed = false;

before(async () => {
  screenshots('pages');
  stack = await startStack({ chart: true, upstream: true });
  browser = await launch();
  page = await newPage(browser.context);
  await signIn(page, stack.url, stack.owner);
});

after(async () => {
  await browser?.close();
  if (stack) {
    if (failed) stack.ok = false;
    await stack.stop();
  }
});

function story(name, fn) {
  test(name, async (t) => {
    if (failed) return t.skip('an earlier story failed');
    try {
      await fn(t);
    } catch (e) {
      failed = true;
      try {
        await shot(page, 'failure-' + name.replace(/\W+/g, '-').slice(0, 40));
      } catch {}
      throw e;
    }
  });
}

const heading = (name) => page.getByRole('heading', { level: 1, name });

async function until(what, f, timeoutMs = 30_000) {
  const end = Date.now() + timeoutMs;
  while (!(await f())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

story('repositories with their tags and platforms; mirrors added, synced and deleted', async (t) => {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Repositories' }).click();
  await heading('Repositories').waitFor();
  // The pushes' platforms, read by a worker on their notifications (no build has run); the page
  // does not read them again by itself: a reload shows them if they came after it.
  const debian = () => page.getByRole('table').first().getByRole('row', { name: /acme\/debian.*12 linux\/amd64, linux\/arm\/v7, linux\/arm64\/v8/ });
  await debian().waitFor({ timeout: 5000 }).catch(async () => {
    t.diagnostic('the platforms of acme/debian:12 came after the page read the repositories: reloaded');
    await page.reload();
    await debian().waitFor();
  });
  await page.getByText('No mirrors.').waitFor();
  await axe(page, 'repositories');

  const upstream = `127.0.0.1:${stack.rport}`;
  const form = page.getByRole('form', { name: 'Add a mirror' });
  assert.deepEqual(await form.getByLabel('Upstream registry', { exact: true }).locator('option').allTextContents(), [upstream]);
  await form.getByRole('button', { name: 'Add mirror' }).click();
  await form.getByRole('alert').getByText('There is a problem').waitFor();
  assert.equal(await form.getByLabel('Repository on the upstream', { exact: true }).getAttribute('aria-invalid'), 'true');
  await axe(page, 'add mirror with a problem');
  await form.getByLabel('Repository on the upstream', { exact: true }).fill('vendor/app');
  await form.getByLabel('Tags (optional)', { exact: true }).fill('1*');
  await form.getByLabel('Poll interval (seconds)', { exact: true }).fill('0');
  await form.getByRole('button', { name: 'Add mirror' }).click();
  await form.getByText(`Mirror of ${upstream}/vendor/app into acme/dhi-app added`).waitFor();
  const card = page.getByRole('listitem').filter({ hasText: `${upstream}/vendor/app → acme/dhi-app` });
  await card.waitFor();
  await card.getByRole('button', { name: 'Sync now acme/dhi-app' }).click();
  await card.getByText(/^Sync 2 is (queued|running)\./).waitFor();
  const tags = card.getByRole('table', { name: 'Tags of sync 2' });
  await tags.getByRole('row', { name: /^1 (copied|unchanged) sha256:/ }).waitFor({ timeout: 60_000 });
  await page.getByRole('table').first().getByRole('row', { name: /acme\/dhi-app.*mirror of/ }).waitFor({ timeout: 30_000 }).catch(async () => {
    await page.reload();
    await page.getByRole('table').first().getByRole('row', { name: /acme\/dhi-app.*mirror of/ }).waitFor();
  });
  await axe(page, 'repositories with a mirror');
  await shot(page, 'repositories-mirror');
  const mirrors = (await stack.api('GET', '/v1/orgs/acme/mirrors')).body.mirrors;
  assert.deepEqual(mirrors.map((m) => [m.source, m.destination, m.tags, m.poll_interval_s]), [[`${upstream}/vendor/app`, 'acme/dhi-app', ['1*'], 0]]);

  const fresh = page.getByRole('listitem').filter({ hasText: `${upstream}/vendor/app → acme/dhi-app` });
  await fresh.getByRole('button', { name: 'Delete mirror acme/dhi-app' }).click();
  await fresh.getByRole('button', { name: 'Yes, delete mirror acme/dhi-app' }).click();
  await page.getByText('No mirrors.').waitFor();
  assert.deepEqual((await stack.api('GET', '/v1/orgs/acme/mirrors')).body.mirrors, []);
  noProblems(page);
});

let chartId;
story('a chart customization: references offered as `from`s, built per version, edited', async () => {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Chart customizations' }).click();
  await heading('Chart customizations').waitFor();
  await axe(page, 'chart customizations (empty)');
  await page.getByRole('link', { name: 'New chart customization' }).click();
  await heading('New chart customization').waitFor();
  await page.getByLabel('Name', { exact: true }).fill('web-acme');
  await page.getByLabel('Chart repository', { exact: true }).selectOption('acme/web');
  const found = page.getByRole('table', { name: 'Image repositories the chart deploys' });
  const nginx = found.getByRole('row', { name: /^docker\.io\/dhi\/nginx / });
  await nginx.waitFor({ timeout: 60_000 });
  assert.match(await nginx.textContent(), /web\/values\.yaml:12 image/);
  assert.match(await nginx.textContent(), /web\/Chart\.yaml:3 annotations\.artifacthub\.io\/images/);
  await axe(page, 'chart form with references');
  await found.getByRole('button', { name: 'Map docker.io/dhi/nginx' }).click();
  await nginx.getByText('mapped').waitFor();
  assert.equal(await page.getByLabel('From (mapping 1)', { exact: true }).inputValue(), 'docker.io/dhi/nginx');
  assert.ok((await page.locator('#from-choices option').evaluateAll((o) => o.map((x) => x.value))).includes('docker.io/dhi/nginx'));
  await page.getByLabel('To (mapping 1)', { exact: true }).fill('acme/debian:12');
  // A reload keeps the draft (this tab only).
  await page.reload();
  await heading('New chart customization').waitFor();
  assert.equal(await page.getByLabel('Name', { exact: true }).inputValue(), 'web-acme');
  assert.equal(await page.getByLabel('Chart repository', { exact: true }).inputValue(), 'acme/web');
  assert.equal(await page.getByLabel('From (mapping 1)', { exact: true }).inputValue(), 'docker.io/dhi/nginx');
  assert.equal(await page.getByLabel('To (mapping 1)', { exact: true }).inputValue(), 'acme/debian:12');
  await nginx.getByText('mapped').waitFor({ timeout: 60_000 });
  // The API's problems: summary and inline (no tag suffix).
  await page.getByRole('button', { name: 'Create chart customization' }).click();
  const summary = page.getByRole('alert').filter({ hasText: /There (is a|are \d+) problems?/ });
  await summary.waitFor();
  assert.equal(await page.getByLabel('Tag suffix', { exact: true }).getAttribute('aria-invalid'), 'true');
  await axe(page, 'chart form with problems');
  await shot(page, 'chart-form-problems');
  await page.getByLabel('Tag suffix', { exact: true }).fill('acme');
  await page.getByRole('button', { name: 'Create chart customization' }).click();
  await heading('web-acme').waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.getItem('tailor.chart-draft')), null, 'the draft is gone once created');
  chartId = decodeURIComponent(page.url().split('/charts/')[1].split(/[?#]/)[0]);
  const versions = page.getByRole('table').filter({ hasText: 'Literal template images' });
  await versions.getByRole('row', { name: /1\.4\.2\+build\.7/ }).waitFor({ timeout: 120_000 });
  const b1 = await stack.waitBuild(chartId, 1, 'chart-customizations');
  assert.equal(b1.status, 'succeeded', JSON.stringify(b1));
  const v = b1.outputs.versions[0];
  await page.getByRole('heading', { name: /Build 1 succeeded/ }).waitFor();
  const row = versions.getByRole('row', { name: /1\.4\.2\+build\.7/ });
  assert.match(await row.textContent(), new RegExp(v.tag.replace(/[.+]/g, '\\$&')));
  assert.match(await row.textContent(), /docker\.io\/dhi\/nginx/);
  assert.ok(v.unmapped.length > 0, 'busybox and others stay unmapped');
  await page.getByRole('log').getByText(/./).first().waitFor();
  assert.equal(await page.getByRole('log').textContent(), (await stack.api('GET', `/v1/orgs/acme/chart-customizations/${chartId}/builds/1/log`)).text);
  await axe(page, 'chart customization detail');
  await shot(page, 'chart-detail');

  await page.getByRole('link', { name: 'Edit', exact: true }).click();
  await heading('Edit web-acme').waitFor();
  await page.getByRole('button', { name: 'Add mapping' }).click();
  await page.getByLabel('From (mapping 2)', { exact: true }).fill('busybox');
  await page.getByLabel('To (mapping 2)', { exact: true }).fill('acme/tools:1');
  await page.getByRole('button', { name: 'Save changes' }).click();
  await page.getByRole('status').getByText('Saved web-acme as revision 2.').waitFor();
  const b2 = await stack.waitBuild(chartId, 2, 'chart-customizations');
  assert.equal(b2.status, 'succeeded', JSON.stringify(b2));
  const spec = (await stack.api('GET', `/v1/orgs/acme/chart-customizations/${chartId}`)).body.spec;
  assert.deepEqual(spec.reference_mapping, [
    { from: 'docker.io/dhi/nginx', to: 'acme/debian:12' },
    { from: 'busybox', to: 'acme/tools:1' },
  ]);
  assert.equal(spec.tag_suffix, 'acme');
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Chart customizations' }).click();
  await page.getByRole('table').getByRole('row', { name: /^web-acme acme\/web acme\/web 2 2 / }).waitFor();
  await axe(page, 'chart customizations list');
  noProblems(page);
});

story('a files-only image just pushed: its platforms waited for, no package database', async () => {
  // An image without /var/lib/dpkg (nor apk): files only.
  const dir = join(stack.dir, 'img/plain');
  mkdirSync(join(dir, 'opt/app'), { recursive: true });
  writeFileSync(join(dir, 'opt/app/run'), '#!/bin/sh\necho plain\n');
  stack.push(dir, 'acme/plain:1', 'linux/amd64');
  await until('acme/plain:1 in the catalog', async () => (await stack.api('GET', '/v1/orgs/acme/repositories/plain/tags')).status === 200);
  // Its first two listings show no platforms yet (as right after a push, made certain here).
  let hidden = 0;
  await page.route('**/v1/orgs/acme/repositories', async (route) => {
    const r = await route.fetch();
    const body = await r.json();
    if (hidden < 2) {
      hidden += 1;
      for (const t of body.repositories.find((x) => x.repository === 'acme/plain')?.tags ?? []) t.platforms = [];
    }
    await route.fulfill({ response: r, json: body });
  });
  try {
    await page.goto(stack.url + '/customizations/new');
    await page.getByLabel('Name', { exact: true }).fill('plain-files');
    await page.getByLabel('Repository', { exact: true }).selectOption('acme/plain');
    await page.getByLabel('Version (tag)', { exact: true }).selectOption('1');
    await page.getByRole('status').getByText('Reading the platforms of acme/plain:1…').waitFor();
    await page.waitForFunction(() => [...document.querySelectorAll('[id="f-source.tag"] option')].some((o) => o.textContent === '1 (linux/amd64)'));
    assert.equal(await page.getByRole('status').getByText(/Reading the platforms/).count(), 0);
    assert.equal(hidden, 2);
  } finally {
    await page.unroute('**/v1/orgs/acme/repositories');
  }
  await page.getByRole('button', { name: 'Next', exact: true }).click();
  // The first question has a worker read its OS: none with a package database.
  await page.getByRole('status').getByText('Reading the packages of acme/plain:1…').waitFor();
  await page.getByText('acme/plain:1 has no package database, so packages cannot be added to it.').waitFor({ timeout: 30_000 });
  await page.getByText('Files (scripts included) and artifacts can still be added').waitFor();
  assert.equal(await page.getByRole('combobox').count(), 0, 'no package search');
  assert.equal(await page.getByRole('button', { name: 'Add package' }).count(), 0);
  await axe(page, 'packages of an image without a package database');
  await shot(page, 'packages-no-database');
  // Its platform is offered (and chosen) on step 5.
  await page.getByRole('link', { name: /5 Configure/ }).click();
  await page.waitForFunction(() => [...document.querySelectorAll('fieldset#f-platforms input[type=checkbox]')].map((x) => `${x.labels[0].textContent} ${x.checked}`).join() === 'linux/amd64 true');
  assert.equal(await page.getByLabel('Add a platform', { exact: true }).count(), 0, 'nothing to type');
  noProblems(page);
});

story('a package catalog that cannot be read: said, and names are taken as typed', async () => {
  // The API's answer when a worker failed to read the image (made certain here).
  await page.route('**/v1/orgs/acme/packages?**', (route) =>
    route.fulfill({ status: 422, json: { error: { code: 'unreadable', message: 'the OS and package catalog of acme/plain:1 could not be read: connection refused', details: [] } } }),
  );
  try {
    await page.getByRole('link', { name: /2 Packages/ }).click();
    await page.getByText('The package catalog could not be read: the OS and package catalog of acme/plain:1 could not be read').waitFor();
    await page.getByRole('button', { name: 'Try again' }).waitFor();
    const box = page.getByRole('combobox', { name: 'Search packages' });
    await box.fill('curl');
    await page.getByRole('status').getByText(/Searching failed: .* You can still add names as typed/).waitFor();
    await box.press('Enter');
    await page.getByRole('button', { name: 'Remove package curl' }).waitFor();
    await axe(page, 'packages when the catalog cannot be read');
    await shot(page, 'packages-unreadable');
  } finally {
    await page.unroute('**/v1/orgs/acme/packages?**');
  }
  // Asked again, the real answer: no package database; the package typed is to be removed.
  await page.getByRole('button', { name: 'Try again' }).click();
  await page.getByText('acme/plain:1 cannot take these: remove them.').waitFor();
  await page.getByRole('button', { name: 'Remove package curl' }).click();
  await page.getByText('acme/plain:1 cannot take these').waitFor({ state: 'detached' });
  // Start over: the draft is emptied.
  await page.getByRole('link', { name: /1 Source/ }).click();
  await page.getByRole('button', { name: 'Start over with an empty customization' }).click();
  assert.equal(await page.getByLabel('Name', { exact: true }).inputValue(), '');
  noProblems(page);
});

story('an edit that lost a race: told, and saved on top of the new revision', async () => {
  const c = await stack.api('POST', '/v1/orgs/acme/customizations', { name: 'raced', source: 'acme/debian:12', tag_suffix: 'raced', platforms: ['linux/amd64'] });
  assert.equal(c.status, 201, c.text);
  await page.goto(`${stack.url}/customizations/${c.body.id}/edit?step=5`);
  await page.getByRole('heading', { level: 1, name: /^Edit raced: Step 5 of 7/ }).waitFor();
  await page.getByRole('button', { name: 'Add label' }).click();
  await page.getByLabel('Name of label 1', { exact: true }).fill('mine');
  await page.getByLabel('Value of label 1', { exact: true }).fill('yes');
  // Someone else saves revision 2 meanwhile.
  const theirs = await fetch(`${stack.url}/v1/orgs/acme/customizations/${c.body.id}`, {
    method: 'PUT',
    headers: { Authorization: `Bearer ${stack.owner}`, 'Content-Type': 'application/json', 'If-Match': '"1"' },
    body: JSON.stringify({ ...c.body.spec, environment: { THEIRS: '1' } }),
  });
  assert.equal(theirs.status, 200);
  await page.getByRole('link', { name: /7 Create/ }).click();
  await page.getByRole('button', { name: 'Save changes' }).click();
  await page.getByRole('alert').getByText(/changed by someone else/).waitFor();
  await axe(page, 'edit conflict');
  await page.getByRole('button', { name: 'Keep my changes and compare with revision 2' }).click();
  await page.getByRole('link', { name: /6 Review/ }).click();
  const diff = page.getByRole('region', { name: 'Changes against revision 2' }).locator('pre.diff');
  assert.match(await diff.textContent(), /- environment:\n- {3}THEIRS: "1"\n\+ labels:\n\+ {3}mine: "yes"\n/);
  await page.getByRole('link', { name: /7 Create/ }).click();
  await page.getByRole('button', { name: 'Save changes' }).click();
  await page.getByRole('status').getByText('Saved raced as revision 3.').waitFor();
  const now = (await stack.api('GET', `/v1/orgs/acme/customizations/${c.body.id}`)).body;
  assert.deepEqual([now.revision, now.spec.labels, now.spec.environment], [3, { mine: 'yes' }, {}]);
  noProblems(page);
});

story('a member may not delete: the 403 is shown', async () => {
  const c = await stack.api('POST', '/v1/orgs/acme/customizations', { name: 'kept', source: 'acme/debian:12', tag_suffix: 'kept', platforms: ['linux/amd64'] });
  assert.equal(c.status, 201, c.text);
  const tab = await newPage(browser.context);
  await signIn(tab, stack.url, stack.member);
  await tab.getByText('acme · member').waitFor();
  await tab.getByRole('link', { name: 'kept' }).click();
  await tab.getByRole('heading', { level: 1, name: 'kept' }).waitFor();
  await tab.getByText('Only owners may delete').waitFor();
  await tab.getByLabel('Type kept to confirm', { exact: true }).fill('kept');
  await tab.getByRole('button', { name: 'Delete', exact: true }).click();
  await tab.getByRole('alert').getByText(/^Not allowed: /).waitFor();
  assert.equal((await stack.api('GET', `/v1/orgs/acme/customizations/${c.body.id}`)).status, 200);
  await axe(tab, 'member: delete refused');
  await shot(tab, 'member-403');
  // The member signs out; the tab forgets the token.
  await tab.getByRole('button', { name: 'Sign out' }).click();
  await tab.getByRole('heading', { level: 1, name: 'Sign in to tailor' }).waitFor();
  assert.equal(await tab.evaluate(() => sessionStorage.getItem('tailor.session')), null);
  noProblems(tab);
  await tab.close();
});

story('unknown pages and things answer clearly', async () => {
  await page.goto(stack.url + '/customizations/cus_nope');
  await page.getByRole('alert').getByText(/could not be loaded/).waitFor();
  await page.goto(stack.url + '/no/such/page');
  await heading('Page not found').waitFor();
  await axe(page, 'not found');
  noProblems(page);
});

story('the built JavaScript is at most 150 KB gzipped', async (t) => {
  const dir = join(WEB, 'dist/assets');
  const js = readdirSync(dir).filter((f) => f.endsWith('.js'));
  const bytes = js.reduce((n, f) => n + gzipSync(readFileSync(join(dir, f)), { level: 9 }).length, 0);
  t.diagnostic(`dist JavaScript: ${js.length} file(s), ${(bytes / 1024).toFixed(1)} KB gzipped`);
  record('js_gzip_bytes', bytes);
  assert.ok(bytes <= 150 * 1024, `${bytes} bytes gzipped`);
});

function record(key, value) {
  mkdirSync(RESULTS, { recursive: true });
  const f = join(RESULTS, 'metrics.json');
  let all = {};
  try {
    all = JSON.parse(readFileSync(f, 'utf8'));
  } catch {}
  all[key] = value;
  writeFileSync(f, JSON.stringify(all, null, 2) + '\n');
}

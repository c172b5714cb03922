// The customization wizard end to end, in Debian's Chromium against `tailor up` and the real
// registry, with images just pushed and no build run before: sign in; every step (a version
// with the platforms its push made known, a package from the catalog read on the first
// question, an artifact include
// picked in the file tree and an exclude under it, a file, environment, a label, a user,
// run-as, the suffix and the platforms); review; create; the build succeeds and its log is
// shown; edit (the diff shows the change) and revision 2 builds; copy; delete with the typed
// name. Then the API holds exactly what the UI showed. A validation failure shows the summary
// and the inline errors. axe-core on every page, screenshots of each step.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startStack } from './harness.mjs';
import { screenshots, axe, launch, newPage, noProblems, shot, signIn } from './browser.mjs';

let stack;
let browser;
let page;
let failed = false;

before(async () => {
  screenshots('wizard');
  stack = await startStack();
  browser = await launch();
  page = await newPage(browser.context);
});

after(async () => {
  await browser?.close();
  if (stack) {
    if (failed) stack.ok = false;
    await stack.stop();
  }
});

/** A test whose failure keeps the stack's logs. */
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

const heading = (re) => page.getByRole('heading', { level: 1, name: re });

async function stepIs(n, name) {
  await heading(new RegExp(`Step ${n} of 7 — ${name}`)).waitFor();
  await page.waitForFunction((t) => document.title.startsWith(t), `Step ${n} of 7: ${name}`, { timeout: 2000 });
  const current = page.locator('nav[aria-label="Wizard steps"] [aria-current="step"]');
  assert.equal((await current.textContent()).trim(), `${n} ${name}`);
}

/** Waits until the element with this id has the focus. */
async function focused(id) {
  await page.waitForFunction((x) => document.activeElement?.id === x, id, { timeout: 3000 }).catch(async () => {
    assert.equal(await page.evaluate(() => document.activeElement?.id), id, 'the focused element');
  });
}

async function next(n, name) {
  await page.getByRole('button', { name: 'Next', exact: true }).click();
  await stepIs(n, name);
}

async function back(n, name) {
  await page.getByRole('button', { name: 'Back', exact: true }).click();
  await stepIs(n, name);
}

const EXPECTED_YAML = `name: web-tools
source: acme/debian:12
tag_suffix: tools
platforms:
  - linux/amd64
contents:
  packages:
    - jq
  artifacts:
    - reference: acme/tools:1
      includes:
        - /opt/tools
      excludes:
        - /opt/tools/tmp
files:
  - path: /etc/motd
    content: |
      Built by tailor.
      Have a nice day.
    uid: 0
    gid: 0
    mode: "0640"
accounts:
  groups:
    - name: app
      gid: 1000
      members:
        - app
  users:
    - name: app
      uid: 1000
      gid: 1000
      home: /home/app
      shell: /sbin/nologin
  run_as: app
environment:
  TOOLS_HOME: /opt/tools
labels:
  com.acme.team: payments
cmd:
  - --verbose
`;

let id;
let shownYaml;

story('sign in with an API token', async () => {
  await page.goto(stack.url + '/customizations');
  await heading('Sign in to tailor').waitFor();
  assert.match(page.url(), /\/sign-in\?next=%2Fcustomizations$/);
  await axe(page, 'sign in');
  await shot(page, 'sign-in');
  // A wrong token: a clear message, still signed out.
  await page.getByLabel('API token', { exact: true }).fill('not-a-token');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByText(/This token is not accepted/).waitFor();
  assert.equal(await page.getByLabel('API token', { exact: true }).getAttribute('aria-invalid'), 'true');
  await axe(page, 'sign in with an error');
  await signIn(page, stack.url, stack.owner);
  assert.equal(await page.evaluate(() => JSON.parse(sessionStorage.getItem('tailor.session')).org), 'acme');
  assert.equal(await page.evaluate(() => localStorage.length), 0, 'nothing is kept beyond the tab');
  await page.getByText('acme · owner').waitFor();
  await axe(page, 'customizations (empty)');
  noProblems(page);
});

story('walk the whole wizard and create the customization', async (t) => {
  await page.getByRole('link', { name: 'New customization' }).click();
  await stepIs(1, 'Source');
  await axe(page, 'wizard step 1');

  // Next without choosing: the summary and the inline errors; the summary links to the field.
  await page.getByRole('button', { name: 'Next', exact: true }).click();
  const summary = page.getByRole('alert').filter({ hasText: 'There are 2 problems' });
  await summary.waitFor();
  assert.equal(await page.getByLabel('Name', { exact: true }).getAttribute('aria-invalid'), 'true');
  await page.locator('#f-name-error').getByText('is required').waitFor();
  await axe(page, 'wizard step 1 with problems');
  await summary.getByRole('link', { name: /^Name/ }).click();
  await focused('f-name');

  await page.getByLabel('Name', { exact: true }).fill('web-tools');
  await page.getByLabel('Repository', { exact: true }).selectOption('acme/debian');
  await page.getByLabel('Version (tag)', { exact: true }).selectOption('12');
  // The push's notification made a worker read the platforms (the step reads the tags again
  // while they show none); no build has run.
  const label = '12 (linux/amd64, linux/arm/v7, linux/arm64/v8)';
  await page
    .waitForFunction((l) => [...document.querySelectorAll('[id="f-source.tag"] option')].some((o) => o.textContent === l), label, { timeout: 15_000 })
    .catch(async () => assert.fail((await page.getByLabel('Version (tag)', { exact: true }).locator('option').allTextContents()).join(' | ')));
  assert.deepEqual((await stack.api('GET', '/v1/orgs/acme/customizations')).body.customizations, [], 'no customization, so no build, yet');
  await shot(page, 'step-1-source');
  await next(2, 'Packages');

  // The package catalog: the first question has a worker read the base's OS, then its
  // catalog (said politely meanwhile); then searched through the combobox with the keyboard.
  const asked = Date.now();
  await page.getByRole('status').getByText('Reading the packages of acme/debian:12…').waitFor();
  assert.equal(await page.getByRole('combobox', { name: 'Search packages' }).count(), 0, 'no search while the catalog is read');
  await axe(page, 'wizard step 2 while the catalog is read');
  await page.getByRole('status').getByText(/Catalog of debian:bookworm \(amd64\): 5 packages/).waitFor({ timeout: 60_000 });
  t.diagnostic(`package catalog of a base no build has read: ready ${Date.now() - asked} ms after step 2 asked`);
  const box = page.getByRole('combobox', { name: 'Search packages' });
  assert.equal(await box.getAttribute('aria-expanded'), 'false');
  await box.fill('jq');
  await page.getByRole('option', { name: /^jq 1\.6/ }).waitFor();
  assert.equal(await box.getAttribute('aria-expanded'), 'true');
  const listbox = await box.getAttribute('aria-controls');
  assert.equal(await page.locator(`[id="${listbox}"]`).getAttribute('role'), 'listbox');
  assert.deepEqual(await page.getByRole('option').allTextContents(), [
    'jq 1.6-2.1+deb12u3 — lightweight and flexible command-line JSON processor',
    'libjq1 1.6-2.1+deb12u3 — lightweight and flexible command-line JSON processor - shared library',
  ]);
  await axe(page, 'wizard step 2 with the listbox open');
  await box.press('ArrowDown');
  const active = await box.getAttribute('aria-activedescendant');
  assert.equal(await page.locator(`[id="${active}"]`).getAttribute('aria-selected'), 'true');
  assert.match(await page.locator(`[id="${active}"]`).textContent(), /^jq /);
  await shot(page, 'step-2-package-search');
  await box.press('Enter');
  assert.equal(await box.getAttribute('aria-expanded'), 'false');
  await page.getByRole('button', { name: 'Remove package jq' }).waitFor();
  // Escape closes the list without choosing.
  await box.fill('hel');
  await page.getByRole('option', { name: /^hello / }).waitFor();
  await box.press('Escape');
  assert.equal(await box.getAttribute('aria-expanded'), 'false');
  await box.press('Escape');
  assert.equal(await box.inputValue(), '');
  assert.deepEqual(await page.getByRole('list', { name: 'Chosen packages' }).getByRole('listitem').allTextContents(), ['jqRemove package jq']);
  await axe(page, 'wizard step 2');
  await shot(page, 'step-2-packages');
  await next(3, 'Artifacts');

  // An artifact: repository, tag, an include picked in its file tree, an exclude under it.
  await page.getByText('later artifact overrides an earlier one').waitFor();
  await page.getByRole('button', { name: 'Add artifact' }).click();
  await page.getByLabel('Repository of artifact 1', { exact: true }).selectOption('acme/tools');
  await page.getByLabel('Tag of artifact 1', { exact: true }).selectOption('1');
  const tree = page.getByRole('group', { name: 'Files of acme/tools:1' });
  await tree.getByRole('button', { name: 'opt/', exact: true }).click({ timeout: 60_000 });
  assert.equal(await tree.getByRole('button', { name: 'opt/', exact: true }).getAttribute('aria-expanded'), 'true');
  await tree.getByRole('button', { name: 'tools/', exact: true }).click();
  await tree.getByRole('button', { name: 'tmp/', exact: true }).waitFor();
  await tree.getByRole('button', { name: 'Include /opt/tools', exact: true }).click();
  await tree.getByRole('button', { name: 'Exclude /opt/tools/tmp', exact: true }).click();
  await tree.getByRole('button', { name: 'Exclude /opt/tools/bin', exact: true }).waitFor();
  assert.equal(await tree.getByRole('button', { name: 'Include /opt/tools/bin' }).count(), 0, 'under an include, entries are excluded, not included');
  await page.getByRole('button', { name: 'Remove include /opt/tools' }).waitFor();
  await page.getByRole('list', { name: 'Excluded under /opt/tools' }).getByText('/opt/tools/tmp', { exact: true }).waitFor();
  await axe(page, 'wizard step 3 with the tree open');
  await shot(page, 'step-3-artifacts');
  // State survives Back and Next.
  await back(2, 'Packages');
  await page.getByRole('button', { name: 'Remove package jq' }).waitFor();
  await next(3, 'Artifacts');
  await page.getByRole('button', { name: 'Remove exclude /opt/tools/tmp' }).waitFor();
  await next(4, 'Files');

  await page.getByRole('button', { name: 'Add file' }).click();
  await page.getByLabel('Path of file 1', { exact: true }).fill('/etc/motd');
  await page.getByLabel('Content of file 1', { exact: true }).fill('Built by tailor.\nHave a nice day.\n');
  await page.getByLabel('Mode of file 1', { exact: true }).fill('0640');
  assert.equal(await page.getByLabel('Owner UID of file 1', { exact: true }).inputValue(), '0');
  await axe(page, 'wizard step 4');
  await shot(page, 'step-4-files');
  await next(5, 'Configure');

  // Platforms: only those the base and the artifact both offer, all preselected.
  const platforms = page.getByRole('group', { name: 'Platforms' });
  await page.waitForFunction(() => document.querySelectorAll('fieldset#f-platforms input[type=checkbox]:checked').length > 0);
  assert.deepEqual(await platforms.getByRole('checkbox').evaluateAll((xs) => xs.map((x) => [x.labels[0].textContent, x.checked])), [
    ['linux/amd64', true],
    ['linux/arm64/v8', true],
  ]);
  await platforms.getByRole('checkbox', { name: 'linux/arm64/v8' }).uncheck();
  const suffix = page.getByLabel('Tag suffix', { exact: true });
  await suffix.fill('too');
  await page.locator('output').getByText('acme/debian:12_too', { exact: true }).waitFor();
  await suffix.fill('tools');
  await page.locator('output').getByText('acme/debian:12_tools', { exact: true }).waitFor();
  await page.getByRole('button', { name: 'Add environment variable' }).click();
  await page.getByLabel('Name of environment variable 1', { exact: true }).fill('TOOLS_HOME');
  await page.getByLabel('Value of environment variable 1', { exact: true }).fill('/opt/tools');
  await page.getByRole('button', { name: 'Add label' }).click();
  await page.getByLabel('Name of label 1', { exact: true }).fill('com.acme.team');
  await page.getByLabel('Value of label 1', { exact: true }).fill('payments');
  await page.getByRole('button', { name: 'Add user' }).click();
  await page.getByLabel('Name of user 1', { exact: true }).fill('app');
  await page.getByLabel('UID of user 1', { exact: true }).fill('1000');
  await page.getByLabel('GID of user 1', { exact: true }).fill('1000');
  await page.getByLabel('Home of user 1', { exact: true }).fill('/home/app');
  await page.getByLabel('Shell of user 1', { exact: true }).fill('/sbin/nologin');
  await page.getByRole('button', { name: 'Add group' }).click();
  await page.getByLabel('Name of group 1', { exact: true }).fill('app');
  await page.getByLabel('GID of group 1', { exact: true }).fill('1000');
  await page.getByLabel('Members of group 1', { exact: true }).fill('app');
  await page.getByLabel('Run-as user', { exact: true }).fill('app');
  await page.getByRole('button', { name: 'Add CMD argument' }).click();
  await page.getByLabel('CMD argument 1', { exact: true }).fill('--verbose');
  await axe(page, 'wizard step 5');
  await shot(page, 'step-5-configure');
  await next(6, 'Review');

  shownYaml = await page.getByTestId('spec-yaml').textContent();
  assert.equal(shownYaml, EXPECTED_YAML);
  for (const [section, step] of [
    ['source', 1],
    ['packages', 2],
    ['artifacts', 3],
    ['files', 4],
    ['configuration', 5],
  ])
    assert.match(await page.getByRole('link', { name: `Change ${section}` }).getAttribute('href'), new RegExp(`step=${step}$`));
  await page.getByRole('link', { name: 'Change files' }).click();
  await stepIs(4, 'Files');
  assert.equal(await page.getByLabel('Path of file 1', { exact: true }).inputValue(), '/etc/motd');
  await page.getByRole('link', { name: /6 Review/ }).click();
  await stepIs(6, 'Review');
  await axe(page, 'wizard step 6');
  await shot(page, 'step-6-review');
  await next(7, 'Create');
  await axe(page, 'wizard step 7');
  await shot(page, 'step-7-create');
  await page.getByRole('button', { name: 'Create customization' }).click();

  await heading('web-tools').waitFor();
  id = decodeURIComponent(page.url().split('/customizations/')[1].split(/[?#]/)[0]);
  await page.getByRole('status').getByText('Created web-tools; its first build is queued.').waitFor();
  noProblems(page);
});

story('see the build succeed and its log', async () => {
  const table = page.getByRole('table', { name: 'Builds, newest first' });
  await table.getByRole('row', { name: /Build 1 succeeded acme\/debian:12_tools/ }).waitFor({ timeout: 120_000 });
  await page.getByRole('heading', { name: /Build 1 succeeded/ }).waitFor();
  const log = page.getByRole('log');
  await log.getByText(/jq=1\.6-2\.1\+deb12u3/).first().waitFor();
  const api = await stack.api('GET', `/v1/orgs/acme/customizations/${id}/builds/1`);
  assert.equal(api.body.status, 'succeeded');
  assert.match(await table.textContent(), new RegExp(api.body.outputs.index_digest.slice(0, 19)));
  assert.equal(await log.textContent(), (await stack.api('GET', `/v1/orgs/acme/customizations/${id}/builds/1/log`)).text);
  // The YAML the detail page shows (from the API) is the YAML the review showed.
  await page.getByText('Spec of revision 1 (YAML)').click();
  assert.equal(await page.getByLabel('Spec of revision 1', { exact: true }).textContent(), shownYaml);
  await axe(page, 'customization detail');
  await shot(page, 'detail-build-1');
  noProblems(page);
});

story('edit it: the diff shows the change, revision 2 builds', async () => {
  await page.getByRole('link', { name: 'Edit', exact: true }).click();
  await heading(/^Edit web-tools: Step 1 of 7 — Source/).waitFor();
  assert.equal(await page.getByLabel('Name', { exact: true }).inputValue(), 'web-tools');
  await page.getByRole('link', { name: /5 Configure/ }).click();
  await stepIs(5, 'Configure');
  assert.equal(await page.getByLabel('Value of label 1', { exact: true }).inputValue(), 'payments');
  await page.getByLabel('Value of label 1', { exact: true }).fill('platform');
  await page.getByRole('button', { name: 'Add environment variable' }).click();
  await page.getByLabel('Name of environment variable 2', { exact: true }).fill('LANG');
  await page.getByLabel('Value of environment variable 2', { exact: true }).fill('C.UTF-8');
  await next(6, 'Review');
  const diff = page.getByRole('region', { name: 'Changes against revision 1' }).locator('pre.diff');
  assert.match(await diff.textContent(), /\+ {3}LANG: C\.UTF-8\n/);
  assert.match(await diff.textContent(), /- {3}com\.acme\.team: payments\n\+ {3}com\.acme\.team: platform\n/);
  assert.equal(await diff.locator('ins').count(), 2);
  assert.equal(await diff.locator('del').count(), 1);
  shownYaml = await page.getByTestId('spec-yaml').textContent();
  await axe(page, 'edit: review with the diff');
  await shot(page, 'edit-review-diff');
  await next(7, 'Create');
  await page.getByRole('button', { name: 'Save changes' }).click();
  await page.getByRole('status').getByText('Saved web-tools as revision 2.').waitFor();
  const table = page.getByRole('table', { name: 'Builds, newest first' });
  await table.getByRole('row', { name: /Build 2 succeeded/ }).waitFor({ timeout: 120_000 });
  const build = await stack.api('GET', `/v1/orgs/acme/customizations/${id}/builds/2`);
  assert.equal(build.body.revision, 2);
  await page.getByText('Spec of revision 2 (YAML)').click();
  assert.equal(await page.getByLabel('Spec of revision 2', { exact: true }).textContent(), shownYaml);
  await shot(page, 'detail-build-2');
  noProblems(page);
});

let copyId;
story('create new from this (a copy with a new name)', async () => {
  await page.getByRole('link', { name: 'Create new from this' }).click();
  await heading(/^New customization from a copy: Step 1 of 7/).waitFor();
  assert.equal(await page.getByLabel('Name', { exact: true }).inputValue(), 'web-tools-copy');
  await page.getByLabel('Name', { exact: true }).fill('web-tools-slim');
  await page.getByRole('link', { name: /5 Configure/ }).click();
  await page.getByLabel('Tag suffix', { exact: true }).fill('slim');
  await page.locator('output').getByText('acme/debian:12_slim', { exact: true }).waitFor();
  await page.getByRole('link', { name: /7 Create/ }).click();
  await stepIs(7, 'Create');
  await page.getByRole('button', { name: 'Create customization' }).click();
  await heading('web-tools-slim').waitFor();
  copyId = decodeURIComponent(page.url().split('/customizations/')[1].split(/[?#]/)[0]);
  assert.notEqual(copyId, id);
  await page.getByRole('table', { name: 'Builds, newest first' }).getByRole('row', { name: /Build 1 succeeded acme\/debian:12_slim/ }).waitFor({ timeout: 120_000 });
  noProblems(page);
});

story('the list filters by source repository', async () => {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Customizations', exact: true }).click();
  await heading('Customizations').waitFor();
  const rows = page.getByRole('table').getByRole('row');
  await rows.filter({ hasText: 'web-tools-slim' }).waitFor();
  assert.equal(await rows.count(), 3);
  await page.getByLabel('Source repository', { exact: true }).selectOption('acme/tools');
  await page.getByRole('button', { name: 'Filter' }).click();
  await page.getByText('No customization builds from acme/tools.').waitFor();
  assert.match(page.url(), /source_repository=acme%2Ftools$/);
  await page.getByLabel('Source repository', { exact: true }).selectOption('acme/debian');
  await page.getByRole('button', { name: 'Filter' }).click();
  await rows.filter({ hasText: 'web-tools-slim' }).waitFor();
  await axe(page, 'customizations list');
  await shot(page, 'list');
});

story('delete with the typed confirmation', async () => {
  await page.getByRole('link', { name: 'web-tools-slim' }).click();
  await heading('web-tools-slim').waitFor();
  const confirm = page.getByLabel('Type web-tools-slim to confirm', { exact: true });
  await confirm.fill('web-tools');
  await page.getByRole('button', { name: 'Delete', exact: true }).click();
  await page.getByText('“web-tools” is not the name: type web-tools-slim exactly to confirm.').waitFor();
  assert.equal((await stack.api('GET', `/v1/orgs/acme/customizations/${copyId}`)).status, 200, 'not deleted');
  await axe(page, 'delete with a wrong name');
  await confirm.fill('web-tools-slim');
  await page.getByRole('button', { name: 'Delete', exact: true }).click();
  await page.getByRole('status').getByText('Deleted web-tools-slim.').waitFor();
  await heading('Customizations').waitFor();
  assert.equal((await stack.api('GET', `/v1/orgs/acme/customizations/${copyId}`)).status, 404);
  noProblems(page);
});

story('afterwards the API holds exactly what the UI showed', async () => {
  const list = (await stack.api('GET', '/v1/orgs/acme/customizations')).body.customizations;
  assert.deepEqual(
    list.map((c) => [c.name, c.revision, c.result]),
    [['web-tools', 2, 'acme/debian:12_tools']],
  );
  const spec = list[0].spec;
  assert.deepEqual(spec.contents, { packages: ['jq'], artifacts: [{ reference: 'acme/tools:1', includes: ['/opt/tools'], excludes: ['/opt/tools/tmp'] }] });
  assert.deepEqual(spec.files, [{ path: '/etc/motd', content: 'Built by tailor.\nHave a nice day.\n', uid: 0, gid: 0, mode: '0640' }]);
  assert.deepEqual(spec.environment, { LANG: 'C.UTF-8', TOOLS_HOME: '/opt/tools' });
  assert.deepEqual(spec.labels, { 'com.acme.team': 'platform' });
  assert.deepEqual(spec.accounts, {
    groups: [{ name: 'app', gid: 1000, members: ['app'] }],
    users: [{ name: 'app', uid: 1000, gid: 1000, home: '/home/app', shell: '/sbin/nologin', gecos: null }],
    run_as: 'app',
  });
  assert.deepEqual([spec.platforms, spec.tag_suffix, spec.cmd, spec.entrypoint], [['linux/amd64'], 'tools', ['--verbose'], []]);
  const builds = (await stack.api('GET', `/v1/orgs/acme/customizations/${list[0].id}/builds`)).body.builds;
  assert.deepEqual(builds.map((b) => [b.number, b.status, b.revision]), [
    [2, 'succeeded', 2],
    [1, 'succeeded', 1],
  ]);
});

story('a validation failure shows the summary and the inline errors', async () => {
  await page.getByRole('link', { name: 'New customization' }).click();
  await stepIs(1, 'Source');
  await page.getByLabel('Name', { exact: true }).fill('bad one');
  await page.getByLabel('Repository', { exact: true }).selectOption('acme/debian');
  await page.getByLabel('Version (tag)', { exact: true }).selectOption('12');
  await page.getByRole('link', { name: /4 Files/ }).click();
  await page.getByRole('button', { name: 'Add file' }).click();
  await page.getByLabel('Path of file 1', { exact: true }).fill('/etc/x');
  await page.getByLabel('Mode of file 1', { exact: true }).fill('999');
  await page.getByRole('link', { name: /5 Configure/ }).click();
  await page.getByLabel('Tag suffix', { exact: true }).fill('x');
  await page.getByRole('button', { name: 'Add environment variable' }).click();
  await page.getByLabel('Name of environment variable 1', { exact: true }).fill('1BAD');
  await page.getByLabel('Value of environment variable 1', { exact: true }).fill('v');
  await page.getByRole('link', { name: /7 Create/ }).click();
  await page.getByRole('button', { name: 'Create customization' }).click();
  const summary = page.getByRole('alert').filter({ hasText: 'There are 3 problems' });
  await summary.waitFor();
  assert.deepEqual(await summary.getByRole('link').allTextContents(), [
    'Name (name): `bad one` is invalid: use letters, digits, `.`, `_` and `-`, starting with a letter or digit',
    'File 1, mode (files[0].mode): `999` is not an octal mode: use 3 or 4 octal digits, optionally with a leading 0, e.g. "0644", "0755" or "4755"',
    'Environment variable 1BAD (environment.1BAD): `1BAD` is not a valid variable name: use letters, digits and `_`, not starting with a digit',
  ]);
  await axe(page, 'create with API problems');
  await shot(page, 'validation-summary');
  // Each link goes to the step and the field, which shows its problem next to it.
  await summary.getByRole('link', { name: /^File 1, mode/ }).click();
  await stepIs(4, 'Files');
  await focused('f-files[0].mode');
  const mode = page.getByLabel('Mode of file 1', { exact: true });
  assert.equal(await mode.getAttribute('aria-invalid'), 'true');
  assert.match(await page.locator('[id="f-files[0].mode-error"]').textContent(), /is not an octal mode/);
  await page.getByRole('alert').filter({ hasText: 'There are 3 problems' }).waitFor();
  await axe(page, 'step 4 with an inline problem');
  await shot(page, 'validation-inline');
  await page.getByRole('alert').getByRole('link', { name: /^Environment variable 1BAD/ }).click();
  await stepIs(5, 'Configure');
  await focused('f-environment.1BAD');
  assert.match(await page.locator('[id="f-environment.1BAD-error"]').textContent(), /not a valid variable name/);
  // Fixed, it is created.
  await page.getByLabel('Name of environment variable 1', { exact: true }).fill('GOOD');
  await page.getByRole('link', { name: /4 Files/ }).click();
  await mode.fill('0644');
  await page.getByRole('link', { name: /1 Source/ }).click();
  await page.getByLabel('Name', { exact: true }).fill('good-one');
  await page.getByRole('link', { name: /7 Create/ }).click();
  await page.getByRole('button', { name: 'Create customization' }).click();
  await heading('good-one').waitFor();
  noProblems(page);
});

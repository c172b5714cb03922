// Debian's Chromium driven by playwright-core (never a downloaded browser): headless, a fresh
// profile per launch. Pages record Content-Security-Policy violations and uncaught errors
// (each fails the test that checks `problems`), `axe` runs axe-core's WCAG A/AA rules, and
// `shot` saves a screenshot under web/test-results/.
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import AxeBuilder from '@axe-core/playwright';
import { WEB } from './harness.mjs';

export const RESULTS = join(WEB, 'test-results');
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

export async function launch() {
  const profile = mkdtempSync(join(tmpdir(), 'tailor-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: ARGS,
    viewport: { width: 1280, height: 900 },
  });
  context.setDefaultTimeout(15_000);
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** A new tab; `page.problems` collects CSP violations, page errors and failed app requests. */
export async function newPage(context) {
  const page = await context.newPage();
  page.problems = [];
  page.on('console', (m) => {
    const t = m.text();
    if (/Content Security Policy|Refused to/i.test(t)) page.problems.push(`CSP: ${t}`);
  });
  page.on('pageerror', (e) => page.problems.push(`page error: ${e.message}`));
  return page;
}

export function noProblems(page) {
  assert.deepEqual(page.problems, [], 'the page reported no CSP violation or uncaught error');
}

const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];
export const axeChecked = [];

/** Runs axe-core's A/AA rules on the page as it is; fails on any violation. */
export async function axe(page, label) {
  const r = await new AxeBuilder({ page }).withTags(TAGS).analyze();
  axeChecked.push(label);
  const v = r.violations.map((x) => `${x.id} (${x.impact}): ${x.help}\n  ${x.nodes.map((n) => n.target.join(' ') + ' — ' + n.failureSummary?.replace(/\n/g, ' ')).join('\n  ')}`);
  assert.deepEqual(v, [], `axe-core violations on ${label}`);
}

let n = 0;
let prefix = 'shot';
/** Names this test file's screenshots `PREFIX-NN-name.png` (and removes the previous run's). */
export function screenshots(name) {
  prefix = name;
  n = 0;
  mkdirSync(RESULTS, { recursive: true });
  for (const f of readdirSync(RESULTS)) if (f.startsWith(prefix + '-') && f.endsWith('.png')) rmSync(join(RESULTS, f));
}

export async function shot(page, name) {
  mkdirSync(RESULTS, { recursive: true });
  n += 1;
  await page.screenshot({ path: join(RESULTS, `${prefix}-${String(n).padStart(2, '0')}-${name}.png`), fullPage: true });
}

/** Signs in on the sign-in page with `token`. */
export async function signIn(page, url, token) {
  await page.goto(url + '/');
  await page.getByLabel('API token', { exact: true }).fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { level: 1, name: 'Customizations' }).waitFor();
}

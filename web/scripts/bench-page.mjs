// The first page's time to interactive, cold, for tests/bench/ui.py: `node scripts/bench-page.mjs
// URL [RUNS]` prints {"page_ms": [...], "baseline_ms": [...]}. Each run is a new Chromium
// profile (no cache, no service worker): the page is timed from navigation start until the
// sign-in form's token field exists and accepts typing; the baseline is the same cold browser
// loading GET /v1/openapi.json from the same server (one document, no script), to its load end.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const [url, runsArg] = process.argv.slice(2);
if (!url) {
  console.error('usage: node scripts/bench-page.mjs URL [RUNS]');
  process.exit(2);
}
const runs = Number(runsArg ?? 5);

async function cold(fn) {
  const profile = mkdtempSync(join(tmpdir(), 'tailor-bench-'));
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  try {
    return await fn(ctx.pages()[0] ?? (await ctx.newPage()));
  } finally {
    await ctx.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

const page_ms = [];
const baseline_ms = [];
for (let i = 0; i < runs; i++) {
  page_ms.push(
    await cold(async (p) => {
      await p.addInitScript(() => {
        const check = () => {
          if (document.getElementById('token') && !window.__usable) window.__usable = performance.now();
        };
        new MutationObserver(check).observe(document, { childList: true, subtree: true });
      });
      await p.goto(url + '/sign-in', { waitUntil: 'commit' });
      const field = p.getByLabel('API token', { exact: true });
      await field.waitFor();
      await field.fill('x');
      if ((await field.inputValue()) !== 'x') throw new Error('the token field does not take typing');
      return p.evaluate(() => window.__usable);
    }),
  );
  baseline_ms.push(
    await cold(async (p) => {
      await p.goto(url + '/v1/openapi.json', { waitUntil: 'load' });
      return p.evaluate(() => performance.getEntriesByType('navigation')[0].loadEventEnd);
    }),
  );
}
console.log(JSON.stringify({ page_ms, baseline_ms }));

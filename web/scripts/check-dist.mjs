// Fails when the committed web/dist is not what `npm run build` makes from the sources: the
// UI component (functions/ui) embeds web/dist, so a stale dist would ship a stale UI.
// Builds into a temporary directory and compares every file, both ways.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const web = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = mkdtempSync(join(tmpdir(), 'tailor-dist-'));

function files(root) {
  const all = [];
  const walk = (d) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      statSync(p).isDirectory() ? walk(p) : all.push(relative(root, p));
    }
  };
  if (existsSync(root)) walk(root);
  return all;
}

try {
  execFileSync(join(web, 'node_modules/.bin/tsc'), ['--noEmit', '-p', '.'], { cwd: web, stdio: 'inherit' });
  execFileSync(join(web, 'node_modules/.bin/vite'), ['build', '--emptyOutDir', '--outDir', out, '--logLevel', 'warn'], { cwd: web, stdio: 'inherit' });
  const dist = join(web, 'dist');
  const want = files(out);
  const have = files(dist);
  const problems = [];
  for (const f of want) {
    if (!have.includes(f)) problems.push(`missing from web/dist: ${f}`);
    else if (!readFileSync(join(out, f)).equals(readFileSync(join(dist, f)))) problems.push(`differs: web/dist/${f}`);
  }
  for (const f of have) if (!want.includes(f)) problems.push(`not made by the build (stale): web/dist/${f}`);
  if (problems.length) {
    console.error(problems.join('\n'));
    console.error('web/dist is not the build of the sources: run `npm run build` in web/, rebuild tailor-ui, and commit web/dist.');
    process.exitCode = 1;
  } else console.log(`web/dist is the build of the sources (${want.length} files)`);
} finally {
  rmSync(out, { recursive: true, force: true });
}

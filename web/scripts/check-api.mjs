// Fails when src/api/schema.d.ts is not what `npm run gen:api` makes from
// ../functions/api/openapi.json (the API changed and the types were not regenerated).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const web = join(dirname(fileURLToPath(import.meta.url)), '..');
const dir = mkdtempSync(join(tmpdir(), 'tailor-api-'));
try {
  const fresh = join(dir, 'schema.d.ts');
  execFileSync(join(web, 'node_modules/.bin/openapi-typescript'), ['../functions/api/openapi.json', '-o', fresh], { cwd: web, stdio: ['ignore', 'ignore', 'inherit'] });
  const committed = readFileSync(join(web, 'src/api/schema.d.ts'), 'utf8');
  if (readFileSync(fresh, 'utf8') !== committed) {
    console.error('web/src/api/schema.d.ts is stale: functions/api/openapi.json changed since it was generated.\nRun `npm run gen:api` in web/ (then `npm run build`) and commit the result.');
    process.exitCode = 1;
  } else console.log('web/src/api/schema.d.ts is up to date with functions/api/openapi.json');
} finally {
  rmSync(dir, { recursive: true, force: true });
}

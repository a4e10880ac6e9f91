// `npm run build`: compiles apps, libs, scripts, benchmarks and the test support processes use
// into dist/ with SWC, from a clean folder so no file of a deleted source lingers. It runs before
// `npm start` and `npm test` and at `npm install`; nothing else builds, so nothing runs from dist/
// while it is rewritten.
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const swc = createRequire(import.meta.url).resolve('@swc/cli/bin/swc.js');

rmSync(join(root, 'dist'), { recursive: true, force: true });
const result = spawnSync(
  process.execPath,
  [swc, 'apps', 'libs', 'scripts', 'bench', 'test/support', 'clients/typescript', '-d', 'dist', '--quiet', '--ignore', '**/*.spec.ts'],
  { cwd: root, stdio: 'inherit' },
);
process.exit(result.status ?? 1);

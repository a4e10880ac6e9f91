// `npm run build`: compiles with SWC into a staging folder, then moves into dist/ only the files
// that changed, each by an atomic rename. Processes run from dist/ while a build happens (the test
// suite starts the API and the CLI from it while another test runs the README's `npm run cli`,
// which builds), so a build must never leave a half-written or missing file for them to load.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// Beside dist/ (same depth), so the relative paths SWC writes into source maps are the same.
const staging = join(root, `.build-${process.pid}`);
const dist = join(root, 'dist');
const swc = createRequire(import.meta.url).resolve('@swc/cli/bin/swc.js');

function* files(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* files(path);
    else yield path;
  }
}

try {
  const result = spawnSync(
    process.execPath,
    [swc, 'apps', 'libs', 'scripts', 'bench', 'test/support', 'clients/typescript', '-d', relative(root, staging), '--quiet', '--ignore', '**/*.spec.ts'],
    { cwd: root, stdio: 'inherit' },
  );
  if (result.status !== 0) process.exit(result.status ?? 1);
  let written = 0;
  for (const built of files(staging)) {
    const target = join(dist, relative(staging, built));
    const content = readFileSync(built);
    if (existsSync(target) && readFileSync(target).equals(content)) continue;
    mkdirSync(dirname(target), { recursive: true });
    const temporary = `${target}.${process.pid}.tmp`;
    writeFileSync(temporary, content);
    renameSync(temporary, target);
    written++;
  }
  if (process.env.npm_config_loglevel !== 'silent') console.log(`build: ${written} file(s) changed in dist/`);
} finally {
  rmSync(staging, { recursive: true, force: true });
}

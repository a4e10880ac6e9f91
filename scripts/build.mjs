// `npm run build`: compiles apps, libs, scripts, benchmarks and the test support processes use
// into dist/ with SWC, from a clean folder so no file of a deleted source lingers. It runs before
// `npm start` and `npm test` and at `npm install`; nothing else builds, so nothing runs from dist/
// while it is rewritten. When dist/ was built from exactly the sources there are now (the same
// files, sizes and modification times, this script, .swcrc and the package files, which pin the
// compiler), it is left as it is: a start does not pay for a build it does not need. A copy that
// keeps modification times and changes a file without changing its size is not seen:
// AGENTPLANE_FORCE_BUILD=1 builds anyway.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const swc = createRequire(import.meta.url).resolve('@swc/cli/bin/swc.js');
const SOURCES = ['apps', 'libs', 'scripts', 'bench', 'test/support', 'clients/typescript'];
const STAMP = join(root, 'dist', '.build-stamp');

/** Every source file's path, size and modification time, hashed. */
function fingerprint() {
  const hash = createHash('sha256');
  const visit = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) visit(path);
      else if (entry.isFile()) {
        const { size, mtimeMs } = statSync(path);
        hash.update(`${relative(root, path)}\0${size}\0${mtimeMs}\n`);
      }
    }
  };
  for (const source of SOURCES) visit(join(root, source));
  // The compiler's settings and version decide the output too.
  for (const file of ['.swcrc', 'package.json', 'package-lock.json']) {
    const { size, mtimeMs } = statSync(join(root, file));
    hash.update(`${file}\0${size}\0${mtimeMs}\n`);
  }
  return hash.digest('hex');
}

const current = fingerprint();
const built = (() => {
  try {
    return readFileSync(STAMP, 'utf8');
  } catch {
    return undefined;
  }
})();
if (built === current && process.env.AGENTPLANE_FORCE_BUILD !== '1') process.exit(0);

rmSync(join(root, 'dist'), { recursive: true, force: true });
const result = spawnSync(process.execPath, [swc, ...SOURCES, '-d', 'dist', '--quiet', '--ignore', '**/*.spec.ts'], {
  cwd: root,
  stdio: 'inherit',
});
if (result.status === 0) writeFileSync(STAMP, current);
process.exit(result.status ?? 1);

// Generates the Prisma client offline. `prisma generate` needs no engine binary any more (the
// query compiler is WASM), but it still looks for the schema engine and tries to download it
// unless PRISMA_SCHEMA_ENGINE_BINARY names an existing file. Any file will do, as it never runs.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const prismaCli = require.resolve('prisma/build/index.js');
const result = spawnSync(process.execPath, [prismaCli, 'generate'], {
  stdio: ['ignore', process.env.npm_config_loglevel === 'silent' ? 'ignore' : 'inherit', 'inherit'],
  env: {
    ...process.env,
    PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? process.execPath,
    PRISMA_HIDE_UPDATE_MESSAGE: '1',
    CHECKPOINT_DISABLE: '1',
  },
});
process.exit(result.status ?? 1);

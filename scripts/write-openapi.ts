// Writes the API contract to openapi.yaml from the code's decorators, without a database: the
// app is built in Nest's preview mode, which wires modules but runs no provider factories.
// `--check` fails (exit 1) when the checked-in file differs from a fresh one; CI runs that.
import 'reflect-metadata';
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { stringify } from 'yaml';
import { loadConfig } from '#agentplane/config';
import { createLogger } from '#agentplane/logging';
import { createApp } from '../apps/api/src/create-app.js';
import { buildOpenApiDocument } from '../apps/api/src/openapi/openapi.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const TARGET = join(ROOT, 'openapi.yaml');

const logger = createLogger({ level: 'error', destination: pino.destination({ fd: 2, sync: true }) });
const app = await createApp(loadConfig({}), logger, { preview: true });
const yaml = stringify(buildOpenApiDocument(app), { lineWidth: 0 });
await app.close();

if (process.argv.includes('--check')) {
  const current = await readFile(TARGET, 'utf8').catch(() => '');
  if (current !== yaml) {
    process.stderr.write('openapi.yaml is out of date: run `npm run openapi` and commit the result.\n');
    process.exit(1);
  }
  process.stdout.write('openapi.yaml is up to date\n');
} else {
  await writeFile(TARGET, yaml);
  process.stdout.write(`wrote ${TARGET}\n`);
}

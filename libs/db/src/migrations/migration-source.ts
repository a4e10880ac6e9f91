import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Migration } from './migration.js';

const MIGRATION_NAME = /^\d{14}_[a-z0-9_]+$/;

/** Reads `prisma/migrations/<name>/migration.sql` in apply order. */
export async function readMigrations(dir: string): Promise<Migration[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const names = entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
  const migrations: Migration[] = [];
  for (const name of names) {
    if (!MIGRATION_NAME.test(name)) {
      throw new Error(`Migration folder "${name}" must be named <14-digit timestamp>_<snake_case>`);
    }
    // Prisma checksums the file's bytes as they are; so do we, or `migrate status` would disagree.
    const bytes = await readFile(join(dir, name, 'migration.sql'));
    const sql = bytes.toString('utf8');
    const lf = sql.replace(/\r\n/g, '\n');
    const checksum = sha256(bytes);
    migrations.push({
      name,
      sql,
      checksum,
      acceptedChecksums: [...new Set([checksum, sha256(lf), sha256(lf.replace(/\n/g, '\r\n'))])],
    });
  }
  return migrations;
}

function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * Finds `prisma/migrations` by walking up from this file, so it works from the sources (tests)
 * and from `dist/` alike, whatever the working directory.
 */
export function defaultMigrationsDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'prisma', 'migrations');
    if (existsSync(join(dir, 'package.json')) && existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('Cannot find prisma/migrations above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
}

import { randomUUID } from 'node:crypto';
import type { ClientBase } from 'pg';
import type { Logger } from 'pino';
import type { Migration, MigrationReport } from './migration.js';

/** The key `prisma migrate` locks with, so our runner and Prisma's never run at the same time. */
export const PRISMA_ADVISORY_LOCK_KEY = 72707369;

// Prisma's own definition of its history table.
const CREATE_HISTORY_TABLE = `
CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`;

interface HistoryRow {
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
  rolled_back_at: Date | null;
}

export class MigrationError extends Error {
  override name = 'MigrationError';
}

/**
 * Applies pending migrations exactly once, even when many instances start together: everything
 * happens under Prisma's advisory lock, and each migration runs with its history row in one
 * transaction, so a failure leaves neither half a schema nor a row claiming success.
 */
export async function runMigrations(client: ClientBase, migrations: readonly Migration[], logger: Logger): Promise<MigrationReport> {
  await client.query('SELECT pg_advisory_lock($1)', [PRISMA_ADVISORY_LOCK_KEY]);
  try {
    await client.query(CREATE_HISTORY_TABLE);
    const { rows } = await client.query<HistoryRow>(
      'SELECT migration_name, checksum, finished_at, rolled_back_at FROM "_prisma_migrations"',
    );
    const history = new Map<string, HistoryRow>();
    for (const row of rows) {
      if (row.rolled_back_at === null) history.set(row.migration_name, row);
    }

    const applied: string[] = [];
    const alreadyApplied: string[] = [];
    for (const migration of migrations) {
      assertTransactional(migration);
      const row = history.get(migration.name);
      if (row?.finished_at === null) {
        throw new MigrationError(
          `Migration ${migration.name} is recorded as started but never finished. ` +
            'Inspect the database, then mark it rolled back or applied (`prisma migrate resolve`).',
        );
      }
      if (row !== undefined) {
        if (!migration.acceptedChecksums.includes(row.checksum)) {
          throw new MigrationError(
            `Migration ${migration.name} was changed after it was applied ` +
              `(checksum in database ${row.checksum.slice(0, 12)}…, on disk ${migration.checksum.slice(0, 12)}…). ` +
              'Applied migrations are immutable: restore the file and add a new migration instead.',
          );
        }
        alreadyApplied.push(migration.name);
        continue;
      }
      await applyOne(client, migration);
      logger.info({ migration: migration.name }, 'applied migration');
      applied.push(migration.name);
    }

    const known = new Set(migrations.map((m) => m.name));
    const unknown = [...history.keys()].filter((name) => !known.has(name)).sort();
    if (unknown.length > 0) {
      logger.warn({ unknown }, 'the database has migrations this version does not know');
    }
    return { applied, alreadyApplied, unknown };
  } finally {
    // If the connection broke, the session (and its lock) is gone anyway; do not let the unlock
    // failure hide the error that got us here.
    await client.query('SELECT pg_advisory_unlock($1)', [PRISMA_ADVISORY_LOCK_KEY]).catch((error: unknown) => {
      logger.warn({ err: error }, 'could not release the migration lock');
    });
  }
}

// Each migration runs inside our transaction together with its history row; a file that manages
// transactions itself (or uses CONCURRENTLY, which cannot run in one) would break that guarantee.
const NON_TRANSACTIONAL = /^\s*(BEGIN|COMMIT|ROLLBACK|START\s+TRANSACTION|END)\b|\bCONCURRENTLY\b/im;

function assertTransactional(migration: Migration): void {
  const sql = migration.sql.replace(/--[^\n]*/g, '');
  if (NON_TRANSACTIONAL.test(sql)) {
    throw new MigrationError(
      `Migration ${migration.name} controls transactions itself (BEGIN/COMMIT) or uses CONCURRENTLY. ` +
        'Migrations here run in a transaction with their history row: remove those statements.',
    );
  }
}

async function applyOne(client: ClientBase, migration: Migration): Promise<void> {
  await client.query('BEGIN');
  try {
    // Simple-query protocol: a migration file may hold many statements.
    await client.query(migration.sql);
    await client.query(
      `INSERT INTO "_prisma_migrations"
         (id, checksum, migration_name, started_at, finished_at, applied_steps_count)
       VALUES ($1, $2, $3, now(), clock_timestamp(), 1)`,
      [randomUUID(), migration.checksum, migration.name],
    );
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw new MigrationError(`Migration ${migration.name} failed: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

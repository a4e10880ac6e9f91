import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { MigrationError, readMigrations, runMigrations } from '#agentplane/db';
import { openTestDatabase, silentLogger } from '../support/db-client.js';
import { createTestStorage, usingPostgres, type TestStorage } from '../support/storage.js';

const A = '20260101000000_create_a';
const B = '20260102000000_create_b';

describe('migration runner (real database)', () => {
  let storage: TestStorage;
  let db: Awaited<ReturnType<typeof openTestDatabase>>;
  let dir: string;
  let client: pg.Client;

  beforeEach(async () => {
    storage = await createTestStorage();
    db = await openTestDatabase(storage);
    client = await db.client();
    dir = await mkdtemp(join(tmpdir(), 'agentplane-migrations-'));
    await writeMigration(A, 'CREATE TABLE a (id INT PRIMARY KEY);\nINSERT INTO a VALUES (1);\n');
    await writeMigration(B, 'CREATE TABLE b (id INT PRIMARY KEY);\n');
  });

  afterEach(async () => {
    await db.close();
    await storage.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  async function writeMigration(name: string, sql: string): Promise<void> {
    await mkdir(join(dir, name), { recursive: true });
    await writeFile(join(dir, name, 'migration.sql'), sql);
  }

  const migrate = async (on: pg.ClientBase = client) => runMigrations(on, await readMigrations(dir), silentLogger);
  const history = async () =>
    (
      await client.query<{ migration_name: string; checksum: string; finished: boolean; applied_steps_count: number }>(
        `SELECT migration_name, checksum, finished_at IS NOT NULL AS finished, applied_steps_count
           FROM _prisma_migrations ORDER BY migration_name`,
      )
    ).rows;

  it('applies pending migrations in order and records them as Prisma does', async () => {
    expect(await migrate()).toEqual({ applied: [A, B], alreadyApplied: [], unknown: [] });
    const sha = (s: string) => createHash('sha256').update(s).digest('hex');
    expect(await history()).toEqual([
      {
        migration_name: A,
        checksum: sha('CREATE TABLE a (id INT PRIMARY KEY);\nINSERT INTO a VALUES (1);\n'),
        finished: true,
        applied_steps_count: 1,
      },
      { migration_name: B, checksum: sha('CREATE TABLE b (id INT PRIMARY KEY);\n'), finished: true, applied_steps_count: 1 },
    ]);
    expect((await client.query('SELECT id FROM a')).rows).toEqual([{ id: 1 }]);
  });

  it('is a no-op when run again', async () => {
    await migrate();
    expect(await migrate()).toEqual({ applied: [], alreadyApplied: [A, B], unknown: [] });
    expect(await history()).toHaveLength(2);
    expect((await client.query('SELECT count(*)::int AS n FROM a')).rows).toEqual([{ n: 1 }]);
  });

  it('refuses a migration changed after it was applied, and applies nothing after it', async () => {
    await migrate();
    await writeMigration(A, 'CREATE TABLE a (id BIGINT PRIMARY KEY);\n');
    await writeMigration('20260103000000_create_c', 'CREATE TABLE c (id INT);\n');
    const error = await migrate().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MigrationError);
    expect((error as Error).message).toContain(`Migration ${A} was changed after it was applied`);
    expect(await history()).toHaveLength(2);
    expect((await client.query(`SELECT to_regclass('c') AS c`)).rows).toEqual([{ c: null }]);
  });

  it('accepts the same file with other line endings, as Prisma does', async () => {
    await migrate();
    await writeMigration(A, 'CREATE TABLE a (id INT PRIMARY KEY);\r\nINSERT INTO a VALUES (1);\r\n');
    expect(await migrate()).toMatchObject({ applied: [], alreadyApplied: [A, B] });
  });

  it('rolls a failing migration back whole and records nothing for it', async () => {
    await migrate();
    const C = '20260103000000_broken';
    await writeMigration(C, 'CREATE TABLE c (id INT);\nINSERT INTO c VALUES (1);\nSELECT 1/0;\n');
    await expect(migrate()).rejects.toThrow(`Migration ${C} failed`);
    expect((await client.query(`SELECT to_regclass('c') AS c`)).rows).toEqual([{ c: null }]);
    expect((await history()).map((r) => r.migration_name)).toEqual([A, B]);
    // The lock was released: a fixed migration applies.
    await writeMigration(C, 'CREATE TABLE c (id INT);\n');
    expect(await migrate()).toMatchObject({ applied: [C] });
  });

  it('refuses to continue past a migration recorded as started but unfinished', async () => {
    await migrate();
    await client.query(`UPDATE _prisma_migrations SET finished_at = NULL WHERE migration_name = '${B}'`);
    await expect(migrate()).rejects.toThrow(`Migration ${B} is recorded as started but never finished`);
  });

  it('reports migrations the database has but this code does not', async () => {
    await migrate();
    await rm(join(dir, B), { recursive: true });
    expect(await migrate()).toEqual({ applied: [], alreadyApplied: [A], unknown: [B] });
  });

  (usingPostgres ? it : it.skip)('applies each migration once when many runners start together', async () => {
    const clients = await Promise.all(Array.from({ length: 5 }, () => db.client()));
    const reports = await Promise.all(clients.map((c) => migrate(c)));
    expect(reports.flatMap((r) => r.applied).sort()).toEqual([A, B]);
    expect(await history()).toHaveLength(2);
  });

  it('applies the project migrations to an empty database', async () => {
    const { defaultMigrationsDir } = await import('#agentplane/db');
    const report = await runMigrations(client, await readMigrations(defaultMigrationsDir()), silentLogger);
    expect(report.applied.length).toBeGreaterThan(0);
    expect((await client.query(`SELECT to_regclass('api_keys') AS t`)).rows).toEqual([{ t: 'api_keys' }]);
  });
});

import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

/**
 * The database a test runs against: embedded PGlite in a fresh temp folder by default, or a
 * freshly created database on the PostgreSQL named by DATABASE_URL (dropped afterwards).
 */
export interface TestStorage {
  readonly kind: 'embedded' | 'postgres';
  /** Environment for a process (API or CLI) that should use this storage. */
  readonly env: Record<string, string>;
  readonly dataDir: string;
  /** Connection string of the test database (postgres only). */
  readonly url?: string;
  dispose(): Promise<void>;
}

export const usingPostgres = (process.env.DATABASE_URL ?? '') !== '';

/** A fixed test master key; never used outside tests. */
export const TEST_MASTER_KEYS = 'test1:' + Buffer.alloc(32, 7).toString('base64');

export async function createTestStorage(): Promise<TestStorage> {
  const dataDir = await mkdtemp(join(tmpdir(), 'agentplane-test-'));
  if (!usingPostgres) {
    return {
      kind: 'embedded',
      dataDir,
      env: { AGENTPLANE_DATA_DIR: dataDir },
      dispose: () => rm(dataDir, { recursive: true, force: true }),
    };
  }
  const adminUrl = new URL(process.env.DATABASE_URL!);
  const name = `agentplane_t_${randomBytes(6).toString('hex')}`;
  await adminQuery(adminUrl, `CREATE DATABASE "${name}"`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    kind: 'postgres',
    dataDir,
    url: url.toString(),
    env: { AGENTPLANE_DATA_DIR: dataDir, DATABASE_URL: url.toString(), AGENTPLANE_MASTER_KEYS: TEST_MASTER_KEYS },
    dispose: async () => {
      await adminQuery(adminUrl, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export async function adminQuery(url: URL | string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

export async function queryRows<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

import { chmodSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createApiKey, ROOT, runCli, startApi } from './support/processes.js';
import { adminQuery, createTestStorage, queryRows, usingPostgres, type TestStorage } from './support/storage.js';

const getOrgStatus = async (url: string, key: string): Promise<number> =>
  (await fetch(`${url}/v1/organization`, { headers: { authorization: `Bearer ${key}` } })).status;

// Every migration in the checkout, in apply order.
const MIGRATIONS = readdirSync(join(ROOT, 'prisma/migrations'), { withFileTypes: true })
  .filter((e) => e.isDirectory())
  .map((e) => e.name)
  .sort();

describe('storage', () => {
  let storage: TestStorage;

  beforeEach(async () => {
    storage = await createTestStorage();
  });

  afterEach(async () => {
    await storage.dispose();
  });

  it('keeps data across a restart on the same storage', async () => {
    const first = await startApi(storage.env);
    const { api_key: key } = await createApiKey('restart', storage.env);
    expect(await getOrgStatus(first.url, key)).toBe(200);
    expect(await first.stop()).toEqual({ code: null, signal: 'SIGTERM' });
    // A clean shutdown releases the embedded folder.
    expect(existsSync(join(storage.dataDir, 'embedded-postgres.lock'))).toBe(false);

    const second = await startApi(storage.env);
    try {
      expect(await getOrgStatus(second.url, key)).toBe(200);
      expect(second.output()).not.toContain('applied migration');
    } finally {
      await second.stop();
    }
  });

  it('runs the CLI with no server running, then serves what it wrote', async () => {
    const migrate = await runCli(['migrate', '--json'], storage.env);
    expect(migrate.code).toBe(0);
    expect(JSON.parse(migrate.stdout)).toEqual({
      applied: MIGRATIONS,
      already_applied: [],
      unknown: [],
    });
    const again = await runCli(['migrate', '--json'], storage.env);
    expect(JSON.parse(again.stdout)).toMatchObject({ applied: [], already_applied: MIGRATIONS });

    const { api_key: key } = await createApiKey('offline', storage.env);
    const api = await startApi(storage.env);
    try {
      expect(await getOrgStatus(api.url, key)).toBe(200);
    } finally {
      await api.stop();
    }
  });

  (usingPostgres ? it.skip : it)('embedded: the CLI reaches the running server through the data folder', async () => {
    const api = await startApi(storage.env);
    try {
      const { api_key: key } = await createApiKey('while-running', storage.env);
      expect(await getOrgStatus(api.url, key)).toBe(200);
      // The CLI attached instead of opening the folder a second time, and let go cleanly.
      expect((await fetch(`${api.url}/healthz`)).status).toBe(200);
    } finally {
      expect(await api.stop()).toEqual({ code: null, signal: 'SIGTERM' });
    }
  });

  (usingPostgres ? it : it.skip)('postgres: two instances starting at once apply each migration once', async () => {
    const [a, b] = await Promise.all([startApi(storage.env), startApi(storage.env)]);
    try {
      expect((await fetch(`${a.url}/healthz`)).status).toBe(200);
      expect((await fetch(`${b.url}/healthz`)).status).toBe(200);
      const rows = await queryRows<{ migration_name: string; n: string }>(
        storage.url!,
        'SELECT migration_name, count(*) AS n FROM _prisma_migrations GROUP BY migration_name ORDER BY migration_name',
      );
      expect(rows).toEqual(MIGRATIONS.map((name) => ({ migration_name: name, n: '1' })));
      // Exactly one of the two did the work.
      const appliedBy = [a, b].filter((api) => api.output().includes('"msg":"applied migration"'));
      expect(appliedBy).toHaveLength(1);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });

  (usingPostgres ? it : it.skip)('postgres: /healthz answers 503 problem+json when the database is gone', async () => {
    const api = await startApi(storage.env);
    try {
      expect((await fetch(`${api.url}/healthz`)).status).toBe(200);
      const name = new URL(storage.url!).pathname.slice(1);
      await adminQuery(process.env.DATABASE_URL!, `DROP DATABASE "${name}" WITH (FORCE)`);
      const res = await fetch(`${api.url}/healthz`);
      expect(res.status).toBe(503);
      expect(res.headers.get('content-type')).toBe('application/problem+json; charset=utf-8');
      expect(res.headers.get('retry-after')).toBe('1');
      expect(await res.json()).toMatchObject({ status: 503, code: 'database_unavailable' });
    } finally {
      await api.stop();
    }
  });

  (usingPostgres ? it.skip : it)('embedded: refuses to start on a data folder others can write, saying how to fix it', async () => {
    chmodSync(storage.dataDir, 0o777);
    const api = await startApi(storage.env).catch((error: unknown) => error as Error);
    if (!(api instanceof Error)) await api.stop();
    expect(api).toBeInstanceOf(Error);
    expect((api as Error).message).toContain(`The data folder ${storage.dataDir} can be written by group or others`);
    expect((api as Error).message).toContain(`chmod 700 ${storage.dataDir}`);
    expect(readdirSync(storage.dataDir)).toEqual([]);
  });

  it('refuses to start with a changed, already-applied migration', async () => {
    // Simulate an edited migration by corrupting its recorded checksum.
    expect((await runCli(['migrate'], storage.env)).code).toBe(0);
    const tamper = `UPDATE _prisma_migrations SET checksum = repeat('0', 64)`;
    if (storage.kind === 'postgres') {
      await adminQuery(storage.url!, tamper);
    } else {
      await tamperEmbedded(storage, tamper);
    }
    const result = await runCli(['migrate'], storage.env);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('Migration 20261122000000_init was changed after it was applied');

    const api = await startApi(storage.env).catch((error: unknown) => error as Error);
    expect(api).toBeInstanceOf(Error);
    expect((api as Error).message).toMatch(/API exited with 1 before listening/);
    expect((api as Error).message).toContain('Migration 20261122000000_init was changed after it was applied');
    // It let go of the data folder on the way out.
    expect(existsSync(join(storage.dataDir, 'embedded-postgres.lock'))).toBe(false);
  });
});

async function tamperEmbedded(storage: TestStorage, sql: string): Promise<void> {
  const { PGlite } = await import('@electric-sql/pglite');
  const db = await PGlite.create(`${storage.dataDir}/pg`);
  await db.exec(sql);
  await db.close();
}

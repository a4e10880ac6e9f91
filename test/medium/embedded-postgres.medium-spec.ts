import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { EmbeddedPostgres, type EmbeddedEndpoint } from '@agentplane/db';
import { silentLogger } from '../support/db-client.js';

async function query(endpoint: EmbeddedEndpoint, sql: string): Promise<unknown[]> {
  const client = new pg.Client({ ...endpoint, user: 'postgres', database: 'postgres' });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

describe('embedded PostgreSQL (PGlite)', () => {
  let dataDir: string;

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'agentplane-embedded-'));
  });

  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('owns the folder once, lets a second opener attach, and keeps data across reopen', async () => {
    const owner = await EmbeddedPostgres.open(dataDir, silentLogger);
    expect(owner.owned).toBe(true);
    expect(owner.endpoint.host).toBe(join(dataDir, 'run'));
    await query(owner.endpoint, 'CREATE TABLE kept (v TEXT); INSERT INTO kept VALUES (\'hello\')');

    const attached = await EmbeddedPostgres.open(dataDir, silentLogger);
    expect(attached.owned).toBe(false);
    expect(await query(attached.endpoint, 'SELECT v FROM kept')).toEqual([{ v: 'hello' }]);
    await attached.close();
    // Letting go of an attachment does not stop the owner's server.
    expect(await query(owner.endpoint, 'SELECT count(*)::int AS n FROM kept')).toEqual([{ n: 1 }]);

    await owner.close();
    const reopened = await EmbeddedPostgres.open(dataDir, silentLogger);
    try {
      expect(reopened.owned).toBe(true);
      expect(await query(reopened.endpoint, 'SELECT v FROM kept')).toEqual([{ v: 'hello' }]);
    } finally {
      await reopened.close();
    }
  });

  it('takes over a lock left by a process that no longer exists', async () => {
    // PID 2^22+1 is above Linux's pid_max default range and cannot be running.
    await writeFile(join(dataDir, 'embedded-postgres.lock'), JSON.stringify({ pid: 4194305 }));
    const db = await EmbeddedPostgres.open(dataDir, silentLogger);
    try {
      expect(db.owned).toBe(true);
      const lock = JSON.parse(await readFile(join(dataDir, 'embedded-postgres.lock'), 'utf8')) as { pid: number };
      expect(lock.pid).toBe(process.pid);
    } finally {
      await db.close();
    }
  });
});

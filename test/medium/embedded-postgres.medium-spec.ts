import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import pg from 'pg';
import { pino } from 'pino';
import { PGlite } from '@electric-sql/pglite';
import { EmbeddedPostgres, writeClusterTemplate } from '#agentplane/db';
import { silentLogger } from '../support/db-client.js';

async function query(db: EmbeddedPostgres, sql: string): Promise<unknown[]> {
  const client = new pg.Client(db.clientConfig());
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

const lockOf = (dir: string) => join(dir, 'embedded-postgres.lock');
const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('embedded PostgreSQL (PGlite)', () => {
  let dataDir: string;
  const open: EmbeddedPostgres[] = [];

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'agentplane-embedded-'));
  });

  afterEach(async () => {
    for (const db of open.splice(0).reverse()) await db.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  const opening = async (options: { attach: boolean; waitMs?: number; clusterTemplate?: string }, dir = dataDir) => {
    const db = await EmbeddedPostgres.open(dir, silentLogger, options);
    open.push(db);
    return db;
  };

  it('lets a CLI attach only once the owner has published, and keeps data across reopen', async () => {
    const owner = await opening({ attach: false });
    expect(owner.owned).toBe(true);
    expect(owner.endpoint.host).toBe(join(dataDir, 'run'));
    await query(owner, "CREATE TABLE kept (v TEXT); INSERT INTO kept VALUES ('hello')");

    let attached: EmbeddedPostgres | undefined;
    const attaching = opening({ attach: true, waitMs: 10_000 }).then((db) => (attached = db));
    await settle(400);
    expect(attached).toBeUndefined();
    await owner.publish();
    await attaching;
    expect(attached!.owned).toBe(false);
    expect(await query(attached!, 'SELECT v FROM kept')).toEqual([{ v: 'hello' }]);
    await attached!.close();
    // Letting go of an attachment does not stop the owner's server.
    expect(await query(owner, 'SELECT count(*)::int AS n FROM kept')).toEqual([{ n: 1 }]);

    await owner.close();
    expect(existsSync(lockOf(dataDir))).toBe(false);
    const reopened = await opening({ attach: false });
    expect(reopened.owned).toBe(true);
    expect(await query(reopened, 'SELECT v FROM kept')).toEqual([{ v: 'hello' }]);
  });

  it('makes a second server wait for the folder instead of attaching, then fail clearly', async () => {
    const owner = await opening({ attach: false });
    await owner.publish();
    await expect(opening({ attach: false, waitMs: 300 })).rejects.toThrow(`The data folder ${dataDir} is in use by process ${process.pid}`);
  });

  it('lets a waiting server take the folder over when the holder lets go', async () => {
    const holder = await EmbeddedPostgres.open(dataDir, silentLogger, { attach: false });
    await holder.publish();
    const waiting = opening({ attach: false, waitMs: 20_000 });
    await settle(300);
    await holder.close();
    expect((await waiting).owned).toBe(true);
  });

  it('gives the folder to exactly one of two processes racing for it', async () => {
    const results = await Promise.allSettled([opening({ attach: false, waitMs: 200 }), opening({ attach: false, waitMs: 200 })]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(results.filter((r) => r.status === 'rejected')).toHaveLength(1);
  });

  it.each([
    ['a process that no longer exists', { pid: 4194305, started: null }],
    ['this PID from an earlier run (a restarted container)', { pid: process.pid, started: 'earlier' }],
    ['a live PID that another process reuses', { pid: 1, started: 'not-init-start-time' }],
  ])('takes over a lock left by %s', async (_label, record) => {
    await writeFile(lockOf(dataDir), JSON.stringify({ ...record, endpoint: { host: join(dataDir, 'run'), port: 5432 } }));
    const db = await opening({ attach: true, waitMs: 2_000 });
    expect(db.owned).toBe(true);
    const lock = JSON.parse(await readFile(lockOf(dataDir), 'utf8')) as { pid: number };
    expect(lock.pid).toBe(process.pid);
  });

  it('keeps every file it creates private (0600, folders 0700) even under umask 0', async () => {
    const previous = process.umask(0);
    try {
      const fresh = join(dataDir, 'fresh');
      const db = await opening({ attach: false }, fresh);
      await db.publish();
      const exposed: string[] = [];
      const walk = async (dir: string): Promise<void> => {
        for (const entry of await readdir(dir, { withFileTypes: true })) {
          const path = join(dir, entry.name);
          const mode = (await stat(path)).mode & 0o777;
          if ((mode & 0o077) !== 0) exposed.push(`${path} ${mode.toString(8)}`);
          if (entry.isDirectory()) await walk(path);
        }
      };
      await walk(fresh);
      expect(((await stat(fresh)).mode & 0o777).toString(8)).toBe('700');
      expect(exposed).toEqual([]);

      // Files PGlite writes later are 0666 (it sets that mode itself), but sit in 0700 folders.
      await query(db, 'CREATE TABLE t (v TEXT); INSERT INTO t VALUES (1)');
      exposed.length = 0;
      await walk(fresh);
      const folders = exposed.filter((line) => !/ 6[0-7][0-7]$/.test(line));
      expect(folders).toEqual([]);
      expect(((await stat(join(fresh, 'pg'))).mode & 0o777).toString(8)).toBe('700');
    } finally {
      process.umask(previous);
    }
  });

  it.each([
    ['others', 0o707],
    ['group', 0o770],
    ['everyone', 0o777],
  ])('refuses a data folder that %s can write, naming it and the fix', async (_who, mode) => {
    await chmod(dataDir, mode);
    const error = (await opening({ attach: false, waitMs: 200 }).catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(Error);
    expect(error.message).toContain(dataDir);
    expect(error.message).toContain(`chmod 700 ${dataDir}`);
    // Refused before anything was written into it.
    expect(await readdir(dataDir)).toEqual([]);
  });

  it('warns about a data folder that others can read, and serves it', async () => {
    await chmod(dataDir, 0o755);
    const lines: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void lines.push(line) });
    const db = await EmbeddedPostgres.open(dataDir, logger, { attach: false });
    open.push(db);
    expect(await query(db, 'SELECT 1 AS one')).toEqual([{ one: 1 }]);
    const warning = lines.map((l) => JSON.parse(l) as { path?: string; msg: string }).find((l) => l.path === dataDir);
    expect(warning?.msg).toContain(`chmod 700 ${dataDir}`);
  });

  it('serves a data folder whose path is too long for a socket from a private temp folder', async () => {
    const deep = join(dataDir, 'x'.repeat(60), 'y'.repeat(60));
    await mkdir(deep, { recursive: true });
    const db = await opening({ attach: false }, deep);
    expect(db.endpoint.host.startsWith(tmpdir())).toBe(true);
    expect(await query(db, 'SELECT 1 AS one')).toEqual([{ one: 1 }]);
    const socketDir = db.endpoint.host;
    await db.close();
    open.pop();
    expect(existsSync(socketDir)).toBe(false);
  });
  describe('cluster template', () => {
    /** A template made like the installed one, with a marker table: a folder unpacked from it has the table, one made by initdb does not. */
    async function markedTemplate(): Promise<string> {
      const db = await PGlite.create();
      try {
        await db.exec('CREATE TABLE from_template (v INT)');
        const path = join(dataDir, 'template.tar.gz');
        await writeFile(path, Buffer.from(await (await db.dumpDataDir('gzip')).arrayBuffer()));
        return path;
      } finally {
        await db.close();
      }
    }
    const hasMarker = async (db: EmbeddedPostgres) =>
      (await query(db, "SELECT count(*)::int AS n FROM pg_tables WHERE tablename = 'from_template'")) as { n: number }[];

    it('unpacks a new data folder from the template, and opens it again as it is', async () => {
      const template = await markedTemplate();
      const folder = join(dataDir, 'new');
      const db = await opening({ attach: false, clusterTemplate: template }, folder);
      expect(await hasMarker(db)).toEqual([{ n: 1 }]);
      await query(db, 'CREATE TABLE mine (v INT)');
      await db.close();
      open.splice(open.indexOf(db), 1);
      // A folder that holds a cluster is never unpacked over, whatever the template holds now.
      await writeFile(template, 'not a tarball');
      const reopened = await opening({ attach: false, clusterTemplate: template }, folder);
      expect(await query(reopened, "SELECT count(*)::int AS n FROM pg_tables WHERE tablename IN ('mine', 'from_template')")).toEqual([
        { n: 2 },
      ]);
    });

    it('runs initdb when the template is missing or broken, with a warning for a broken one', async () => {
      const missing = await opening({ attach: false, clusterTemplate: join(dataDir, 'absent.tar.gz') }, join(dataDir, 'a'));
      expect(await hasMarker(missing)).toEqual([{ n: 0 }]);

      // Not gzip at all, and gzip of something that is not a tarball.
      for (const [name, bytes] of [
        ['b', Buffer.alloc(4096, 7)],
        ['c', gzipSync(Buffer.alloc(4096, 7))],
      ] as const) {
        const broken = join(dataDir, `${name}.tar.gz`);
        await writeFile(broken, bytes);
        const lines: string[] = [];
        const logger = pino({ level: 'warn' }, { write: (line: string) => void lines.push(line) });
        const db = await EmbeddedPostgres.open(join(dataDir, name), logger, { attach: false, clusterTemplate: broken });
        open.push(db);
        expect(await hasMarker(db)).toEqual([{ n: 0 }]);
        expect(lines.map((l) => (JSON.parse(l) as { msg: string }).msg)).toContain(
          'could not unpack the cluster template; initializing the data folder instead',
        );
      }
    });

    it('writes the template once, atomically, and a folder unpacked from it serves', async () => {
      const path = join(dataDir, 'cache', 'cluster.tar.gz');
      expect(await writeClusterTemplate(path)).toBe(true);
      expect(await writeClusterTemplate(path)).toBe(false);
      expect((await readdir(join(dataDir, 'cache'))).sort()).toEqual(['cluster.tar.gz']);
      const db = await opening({ attach: false, clusterTemplate: path }, join(dataDir, 'd'));
      expect(await query(db, 'SELECT 1 AS one')).toEqual([{ one: 1 }]);
    });
  });
});

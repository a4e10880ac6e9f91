import { mkdir, open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import type { Logger } from 'pino';

/** Where a client connects: a Unix-socket directory or a loopback address, with its port. */
export interface EmbeddedEndpoint {
  readonly host: string;
  readonly port: number;
}

interface LockRecord {
  readonly pid: number;
  readonly endpoint?: EmbeddedEndpoint;
}

const LOCK_FILE = 'embedded-postgres.lock';
const SOCKET_PORT = 5432;
// sockaddr_un.sun_path is 108 bytes on Linux; longer paths cannot be bound.
const MAX_SOCKET_PATH = 100;
const ATTACH_WAIT_MS = 20_000;
// The API keeps one pooled connection; the rest are for the migration runner and the CLI.
const MAX_CONNECTIONS = 8;

/**
 * Embedded PostgreSQL for a data folder. PGlite lets only one process open a folder, so the first
 * process *owns* it: it starts PGlite behind a socket server and advertises the endpoint in a lock
 * file. Any later process (the CLI while `npm start` runs) *attaches* to that endpoint instead.
 */
export class EmbeddedPostgres {
  private constructor(
    readonly endpoint: EmbeddedEndpoint,
    readonly owned: boolean,
    private readonly release: () => Promise<void>,
  ) {}

  static async open(dataDir: string, logger: Logger): Promise<EmbeddedPostgres> {
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    const lockPath = join(dataDir, LOCK_FILE);
    for (let attempt = 0; attempt < 3; attempt++) {
      if (await tryCreateLock(lockPath)) return EmbeddedPostgres.startOwner(dataDir, lockPath, logger);
      const holder = await readLock(lockPath);
      if (holder !== undefined && isAlive(holder.pid)) {
        const endpoint = holder.endpoint ?? (await waitForEndpoint(lockPath, holder.pid));
        logger.debug({ pid: holder.pid }, 'attaching to the embedded database of a running process');
        return new EmbeddedPostgres(endpoint, false, async () => {});
      }
      logger.warn({ lockPath }, 'removing a stale embedded-database lock left by a stopped process');
      await rm(lockPath, { force: true });
    }
    throw new Error(`Could not take the embedded database lock ${lockPath}`);
  }

  private static async startOwner(
    dataDir: string,
    lockPath: string,
    logger: Logger,
  ): Promise<EmbeddedPostgres> {
    try {
      const db = await PGlite.create(join(dataDir, 'pg'));
      const runDir = join(dataDir, 'run');
      await mkdir(runDir, { recursive: true, mode: 0o700 });
      const socketPath = join(runDir, `.s.PGSQL.${SOCKET_PORT}`);
      let server: PGLiteSocketServer;
      let endpoint: EmbeddedEndpoint;
      if (socketPath.length <= MAX_SOCKET_PATH) {
        // A Unix socket inside the 0700 data folder: only this user can reach the database.
        await rm(socketPath, { force: true });
        server = new PGLiteSocketServer({ db, path: socketPath, maxConnections: MAX_CONNECTIONS });
        await server.start();
        endpoint = { host: runDir, port: SOCKET_PORT };
      } else {
        logger.warn({ dataDir }, 'data folder path too long for a Unix socket; listening on loopback TCP');
        server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: MAX_CONNECTIONS });
        await server.start();
        endpoint = { host: '127.0.0.1', port: Number(new URL(`postgres://${server.getServerConn()}`).port) };
      }
      await writeLock(lockPath, { pid: process.pid, endpoint });
      return new EmbeddedPostgres(endpoint, true, async () => {
        await server.stop();
        await db.close();
        await rm(lockPath, { force: true });
      });
    } catch (error) {
      await rm(lockPath, { force: true });
      throw error;
    }
  }

  /** Stops the server if this process owns it; attached processes just let go. */
  async close(): Promise<void> {
    await this.release();
  }
}

async function tryCreateLock(lockPath: string): Promise<boolean> {
  try {
    const handle = await open(lockPath, 'wx', 0o600);
    await handle.writeFile(JSON.stringify({ pid: process.pid } satisfies LockRecord));
    await handle.close();
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

async function readLock(lockPath: string): Promise<LockRecord | undefined> {
  try {
    const parsed = JSON.parse(await readFile(lockPath, 'utf8')) as Partial<LockRecord>;
    return typeof parsed.pid === 'number' ? (parsed as LockRecord) : undefined;
  } catch {
    return undefined;
  }
}

// Replaces the lock atomically so an attaching reader never sees a half-written record.
async function writeLock(lockPath: string, record: LockRecord): Promise<void> {
  const temp = `${lockPath}.${process.pid}.tmp`;
  await writeFile(temp, JSON.stringify(record), { mode: 0o600 });
  await rename(temp, lockPath);
}

async function waitForEndpoint(lockPath: string, pid: number): Promise<EmbeddedEndpoint> {
  const deadline = Date.now() + ATTACH_WAIT_MS;
  while (Date.now() < deadline) {
    const record = await readLock(lockPath);
    if (record?.endpoint !== undefined) return record.endpoint;
    if (record === undefined || !isAlive(pid)) break;
    await sleep(100);
  }
  throw new Error(
    `Process ${pid} holds the embedded database lock ${lockPath} but does not serve it. ` +
      'If no agentplane process is running, delete that file.',
  );
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

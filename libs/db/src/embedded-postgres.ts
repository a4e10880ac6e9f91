import { randomBytes } from 'node:crypto';
import { chmod, link, mkdir, mkdtemp, readdir, readFile, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import type { ClientConfig } from 'pg';
import type { Logger } from 'pino';
import { clusterTemplatePath, readClusterTemplate } from './cluster-template.js';
import { ensurePrivateDataFolder } from './data-folder.js';

/** Where a client connects: the directory of a Unix socket, and the port in its file name. */
export interface EmbeddedEndpoint {
  readonly host: string;
  readonly port: number;
}

export interface EmbeddedOpenOptions {
  /**
   * May this process use a folder another live process serves? Yes for short commands (the CLI
   * next to `npm start`); no for the API, which must not depend on a CLI that is about to exit
   * and instead waits for the folder to be free.
   */
  readonly attach: boolean;
  /** How long to wait for a folder held by another process (default 30 s). */
  readonly waitMs?: number;
  /** Where a new folder's cluster is unpacked from (default: the installed template, see cluster-template.ts). */
  readonly clusterTemplate?: string;
}

interface LockRecord {
  readonly pid: number;
  /** The holder's start time (Linux /proc), so a recycled PID is not mistaken for the holder. */
  readonly started: string | null;
  /** Set once the holder serves the database and has applied migrations. */
  readonly endpoint?: EmbeddedEndpoint;
}

const LOCK_FILE = 'embedded-postgres.lock';
const SOCKET_PORT = 5432;
// sockaddr_un.sun_path holds 108 bytes on Linux (104 on macOS).
const MAX_SOCKET_PATH = 100;
// The API keeps one pooled connection; the rest are for the migration runner and the CLI.
const MAX_CONNECTIONS = 8;
const POLL_MS = 100;

// Folders this process owns, so that opening one again from the same process attaches to it
// while a lock naming our PID that we do not hold (a previous run in a container) counts as stale.
const ownedHere = new Set<string>();

/**
 * Embedded PostgreSQL for a data folder. PGlite lets only one process open a folder, so the first
 * process *owns* it: it takes a lock file (created atomically), starts PGlite behind a Unix socket
 * inside the folder and, once ready, publishes the socket in the lock. Later processes either
 * attach to that socket or wait for the folder to be free. The socket never listens on TCP, so
 * only this user can reach the database.
 */
export class EmbeddedPostgres {
  private constructor(
    readonly endpoint: EmbeddedEndpoint,
    readonly owned: boolean,
    private readonly lockPath: string,
    private readonly release: () => Promise<void>,
  ) {}

  static async open(dataDir: string, logger: Logger, options: EmbeddedOpenOptions): Promise<EmbeddedPostgres> {
    await checkDataFolder(dataDir, logger);
    const lockPath = join(dataDir, LOCK_FILE);
    const deadline = Date.now() + (options.waitMs ?? 30_000);
    let announced = false;
    for (;;) {
      const self: LockRecord = { pid: process.pid, started: processStartTime(process.pid) };
      if (await createExclusive(lockPath, self)) {
        return EmbeddedPostgres.startOwner(dataDir, lockPath, options.clusterTemplate ?? clusterTemplatePath(), logger);
      }
      const holder = await readLock(lockPath);
      if (holder !== undefined && !isHolderAlive(holder, dataDir)) {
        logger.warn({ lockPath, pid: holder.pid }, 'taking over an embedded-database lock left by a stopped process');
        await removeStaleLock(lockPath, holder);
        continue;
      }
      if (holder?.endpoint !== undefined && options.attach) {
        logger.debug({ pid: holder.pid }, 'attaching to the embedded database of a running process');
        return new EmbeddedPostgres(holder.endpoint, false, lockPath, async () => {});
      }
      if (Date.now() > deadline) {
        throw new Error(
          holder === undefined
            ? `The embedded database lock ${lockPath} is unreadable. If no agentplane process is running, delete it.`
            : `The data folder ${dataDir} is in use by process ${holder.pid}. ` +
                'Embedded storage serves one agentplane server at a time; stop the other one, ' +
                'or use PostgreSQL (DATABASE_URL) to run several.',
        );
      }
      if (!announced && holder !== undefined) {
        announced = true;
        logger.info({ pid: holder.pid }, 'waiting for another process to release the data folder');
      }
      await sleep(POLL_MS);
    }
  }

  private static async startOwner(dataDir: string, lockPath: string, template: string, logger: Logger): Promise<EmbeddedPostgres> {
    ownedHere.add(dataDir);
    const cleanups: (() => Promise<unknown>)[] = [
      async () => {
        ownedHere.delete(dataDir);
        await rm(lockPath, { force: true });
      },
    ];
    const cleanup = async (): Promise<void> => {
      for (const step of cleanups.reverse()) await step().catch(() => undefined);
    };
    try {
      // Whatever umask the process was started with, what it creates from now on is private.
      process.umask(process.umask(0o077) | 0o077);
      const pgDir = join(dataDir, 'pg');
      const db = await openCluster(pgDir, template, logger);
      cleanups.push(() => db.close());
      // PGlite sets 0666 on the files it writes, whatever the umask: its folder is made 0700 so
      // nobody else can reach them, and the files it has written so far are made 0600.
      await makePrivate(pgDir);
      let socketDir = join(dataDir, 'run');
      if (join(socketDir, `.s.PGSQL.${SOCKET_PORT}`).length > MAX_SOCKET_PATH) {
        // Too long for a socket address: use a private (0700) folder in the temp directory.
        socketDir = await mkdtemp(join(tmpdir(), 'agentplane-'));
        const dir = socketDir;
        cleanups.push(() => rm(dir, { recursive: true, force: true }));
        logger.debug({ socketDir }, 'data folder path is too long for a Unix socket; using a temp folder');
      } else {
        await mkdir(socketDir, { recursive: true, mode: 0o700 });
        await chmod(socketDir, 0o700);
      }
      const socketPath = join(socketDir, `.s.PGSQL.${SOCKET_PORT}`);
      await rm(socketPath, { force: true });
      const server = new PGLiteSocketServer({ db, path: socketPath, maxConnections: MAX_CONNECTIONS });
      await server.start();
      cleanups.push(() => server.stop());
      return new EmbeddedPostgres({ host: socketDir, port: SOCKET_PORT }, true, lockPath, cleanup);
    } catch (error) {
      await cleanup();
      throw error;
    }
  }

  /** Settings for a `pg` client or pool of this database. */
  clientConfig(): ClientConfig {
    return { host: this.endpoint.host, port: this.endpoint.port, user: 'postgres', database: 'postgres' };
  }

  /**
   * Lets other processes attach. The owner calls this once the database is ready to share
   * (migrated), so an attaching CLI never races the owner's start-up.
   */
  async publish(): Promise<void> {
    if (!this.owned) return;
    const record: LockRecord = { pid: process.pid, started: processStartTime(process.pid), endpoint: this.endpoint };
    // Replace atomically so a reader never sees half a record.
    const temp = `${this.lockPath}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    await writeFile(temp, JSON.stringify(record), { mode: 0o600 });
    await rename(temp, this.lockPath);
  }

  /** Stops the server if this process owns it; attached processes just let go. */
  async close(): Promise<void> {
    await this.release();
  }
}

/** The data folder's checks, and a warning when others can read it. */
async function checkDataFolder(dataDir: string, logger: Logger): Promise<void> {
  const mode = await ensurePrivateDataFolder(dataDir);
  if ((mode & 0o044) !== 0) {
    logger.warn(
      { path: dataDir, mode: mode.toString(8) },
      `the data folder can be read by group or others; make it private: chmod 700 ${dataDir}`,
    );
  }
}

/** chmod 0700 for a folder and every folder below it, 0600 for every file. */
async function makePrivate(dir: string): Promise<void> {
  await chmod(dir, 0o700);
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await makePrivate(path);
    else if (entry.isFile()) await chmod(path, 0o600);
  }
}

/** Creates the lock with its full content, or returns false if it exists: link() is atomic. */
/**
 * Opens the cluster in `pgDir`. A folder that holds none yet is unpacked from the template when
 * there is one (initdb's work, done once per install); when that fails, what it wrote is removed
 * (it held no database) and initdb runs as it would without a template.
 */
async function openCluster(pgDir: string, template: string, logger: Logger): Promise<PGlite> {
  if (existsSync(join(pgDir, 'PG_VERSION'))) return PGlite.create(pgDir);
  try {
    const tarball = await readClusterTemplate(template);
    if (tarball !== undefined) return await PGlite.create(pgDir, { loadDataDir: tarball });
  } catch (error) {
    logger.warn({ err: error, template }, 'could not unpack the cluster template; initializing the data folder instead');
    await rm(pgDir, { recursive: true, force: true });
  }
  return PGlite.create(pgDir);
}

async function createExclusive(lockPath: string, record: LockRecord): Promise<boolean> {
  const temp = `${lockPath}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(temp, JSON.stringify(record), { mode: 0o600 });
  try {
    await link(temp, lockPath);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    await unlink(temp).catch(() => undefined);
  }
}

async function readLock(lockPath: string): Promise<LockRecord | undefined> {
  try {
    const parsed = JSON.parse(await readFile(lockPath, 'utf8')) as Partial<LockRecord>;
    return typeof parsed.pid === 'number' ? { pid: parsed.pid, started: parsed.started ?? null, endpoint: parsed.endpoint } : undefined;
  } catch {
    // Missing (released meanwhile) or not ours to interpret: the caller waits and looks again.
    return undefined;
  }
}

/**
 * Moves a stale lock aside, then checks that what was moved is the lock judged stale: another
 * newcomer may have replaced it in between, in which case its lock is put back.
 */
async function removeStaleLock(lockPath: string, stale: LockRecord): Promise<void> {
  const aside = `${lockPath}.stale.${process.pid}.${randomBytes(4).toString('hex')}`;
  try {
    await rename(lockPath, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  const moved = await readLock(aside);
  if (moved !== undefined && (moved.pid !== stale.pid || moved.started !== stale.started)) {
    await link(aside, lockPath).catch(() => undefined);
  }
  await unlink(aside).catch(() => undefined);
}

function isHolderAlive(holder: LockRecord, dataDir: string): boolean {
  if (holder.pid === process.pid) return ownedHere.has(dataDir);
  try {
    process.kill(holder.pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  // The PID exists; it is the holder only if it started when the holder did.
  const started = processStartTime(holder.pid);
  return holder.started === null || started === null || started === holder.started;
}

/** Field 22 of /proc/<pid>/stat (start time in clock ticks since boot); null where unavailable. */
function processStartTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces: split after it.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] ?? null;
  } catch {
    return null;
  }
}

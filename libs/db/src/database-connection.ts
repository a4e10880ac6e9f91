import pg from 'pg';
import type { Logger } from 'pino';
import type { StorageConfig } from '#agentplane/config';
import { EmbeddedPostgres } from './embedded-postgres.js';
import { defaultMigrationsDir, readMigrations } from './migrations/migration-source.js';
import { runMigrations } from './migrations/migration-runner.js';
import type { MigrationReport } from './migrations/migration.js';

export interface ConnectOptions {
  /** Defaults to `prisma/migrations` of this checkout. */
  readonly migrationsDir?: string;
  /** Pool size for an external PostgreSQL (embedded storage always uses one connection). */
  readonly poolSize?: number;
  /**
   * Embedded storage only: may this process use a data folder that another running process
   * serves (true for CLI commands), or must it own the folder (the API; the default)?
   */
  readonly attachToRunningServer?: boolean;
}

const CONNECT_TIMEOUT_MS = 10_000;

/**
 * The process's link to PostgreSQL: starts or attaches to embedded storage, or connects to
 * `DATABASE_URL`, applies pending migrations, then holds the pool Prisma runs on.
 */
export class DatabaseConnection {
  private closed = false;

  private constructor(
    readonly pool: pg.Pool,
    // One connection of its own for health checks, so a pool busy with requests does not make
    // a database that answers look down.
    private readonly healthPool: pg.Pool,
    readonly migrations: MigrationReport,
    readonly embedded: EmbeddedPostgres | undefined,
  ) {}

  static async open(storage: StorageConfig, logger: Logger, options: ConnectOptions = {}): Promise<DatabaseConnection> {
    const embedded =
      storage.kind === 'embedded'
        ? await EmbeddedPostgres.open(storage.dataDir, logger, { attach: options.attachToRunningServer ?? false })
        : undefined;
    try {
      const clientConfig: pg.ClientConfig = {
        ...(embedded === undefined ? { connectionString: storage.kind === 'postgres' ? storage.url : undefined } : embedded.clientConfig()),
        connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
        application_name: 'agentplane',
      };

      const migrations = await DatabaseConnection.migrate(clientConfig, logger, options.migrationsDir);
      // Only now may other processes attach: none of them ever sees a half-migrated database
      // (PGlite is one session, so the advisory lock would not keep them out).
      await embedded?.publish();
      // PGlite is a single Postgres session that every connection shares: one pooled connection
      // keeps the API's transactions from interleaving on it.
      const pool = new pg.Pool({
        ...clientConfig,
        // Bytes inside a relation read (relationJoins aggregates rows to JSON) are decoded only from
        // hex; a server set to `escape` would fail those reads, with the bytes in the error. A
        // startup option, so it holds before the first query (an `options` in DATABASE_URL wins).
        options: '-c bytea_output=hex',
        max: embedded === undefined ? (options.poolSize ?? 10) : 1,
      });
      pool.on('error', (error) => logger.error({ err: error }, 'idle database connection failed'));
      // Its own connection, so a busy request pool does not read as a database that is down. On
      // PGlite it shares the one session: a read-only `SELECT 1` may land inside another
      // connection's transaction, which it cannot change (one in a failed state fails it once).
      const healthPool = new pg.Pool({ ...clientConfig, max: 1 });
      healthPool.on('error', (error) => logger.warn({ err: error }, 'idle health-check connection failed'));
      return new DatabaseConnection(pool, healthPool, migrations, embedded);
    } catch (error) {
      await embedded?.close();
      throw error;
    }
  }

  private static async migrate(
    clientConfig: pg.ClientConfig,
    logger: Logger,
    migrationsDir = defaultMigrationsDir(),
  ): Promise<MigrationReport> {
    const migrations = await readMigrations(migrationsDir);
    // A dedicated session: the advisory lock belongs to it and ends with it even on a crash.
    const client = new pg.Client(clientConfig);
    await client.connect();
    try {
      return await runMigrations(client, migrations, logger);
    } finally {
      await client.end();
    }
  }

  /** Runs `SELECT 1` on the health-check connection; rejects when the database does not answer. */
  async ping(): Promise<void> {
    await this.healthPool.query('SELECT 1');
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.healthPool.end();
    await this.pool.end();
    await this.embedded?.close();
  }
}

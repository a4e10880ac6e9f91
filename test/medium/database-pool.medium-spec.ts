import type { INestApplicationContext } from '@nestjs/common';
import type pg from 'pg';
import { DatabaseConnection, DatabaseHealth, isDatabaseUnavailable, PrismaService } from '#agentplane/db';
import { createServiceContext } from '../support/nest-context.js';
import { createTestStorage, type TestStorage } from '../support/storage.js';

describe('an exhausted connection pool, against a real database', () => {
  let storage: TestStorage;
  let ctx: INestApplicationContext | undefined;
  const held: pg.PoolClient[] = [];

  beforeEach(async () => {
    storage = await createTestStorage();
    ctx = await createServiceContext(storage);
  });

  afterEach(async () => {
    for (const client of held.splice(0)) client.release();
    await ctx?.close();
    await storage.dispose();
  });

  it('fails a burst of queries as database-unavailable, while the health check still sees the database answer', async () => {
    const connection = ctx!.get(DatabaseConnection);
    const prisma = ctx!.get(PrismaService);
    const health = ctx!.get(DatabaseHealth);
    // Every pooled connection busy, as under a burst of slow requests.
    for (let i = 0; i < connection.pool.options.max; i++) held.push(await connection.pool.connect());

    // The pool is busy, not the database: health says so within its own deadline.
    expect(await health.isHealthy()).toBe(true);

    const burst = await Promise.allSettled(Array.from({ length: 5 }, () => prisma.$queryRaw`SELECT 1`));
    expect(burst.map((r) => r.status)).toEqual(Array.from({ length: 5 }, () => 'rejected'));
    // What the pool raises (through Prisma's driver adapter) is recognized as "unavailable",
    // so the API answers 503 database_unavailable, not 500.
    for (const result of burst) expect(isDatabaseUnavailable((result as PromiseRejectedResult).reason)).toBe(true);

    for (const client of held.splice(0)) client.release();
    await expect(prisma.$queryRaw`SELECT 1 AS one`).resolves.toEqual([{ one: 1 }]);
    expect(await health.isHealthy()).toBe(true);
  }, 30_000);
});

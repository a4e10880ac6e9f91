import type { INestApplicationContext } from '@nestjs/common';
import { AgentsModule, AgentsService } from '#agentplane/agents';
import { ApiKeyService } from '#agentplane/auth';
import { CredentialsService } from '#agentplane/credentials';
import { PrismaService } from '#agentplane/db';
import { openTestDatabase } from '../support/db-client.js';
import { createServiceContext } from '../support/nest-context.js';
import { createTestStorage, type TestStorage, usingPostgres } from '../support/storage.js';

const ENV = { AGENTPLANE_EGRESS_ALLOWLIST: '127.0.0.1' };
const KEY = 'sk-medium-0123456789abcdefghijklmnop';

describe('an agent read for a reply, against a real database', () => {
  let storage: TestStorage;
  let ctx: INestApplicationContext | undefined;

  beforeEach(async () => {
    storage = await createTestStorage();
  });

  afterEach(async () => {
    await ctx?.close();
    await storage.dispose();
  });

  it('carries each entry’s sealed credential in the one query, in entry order, opening to the stored keys even when the database says bytea_output = escape', async () => {
    // Set on the database itself, as an operator might: every new session starts with it.
    ctx = await createServiceContext(storage, ENV, [AgentsModule]);
    const prisma = ctx.get(PrismaService);
    const db = (await prisma.$queryRawUnsafe<{ db: string }[]>('SELECT current_database() AS db'))[0]!.db;
    await prisma.$executeRawUnsafe(`ALTER DATABASE "${db}" SET bytea_output = 'escape'`);
    await ctx.close();

    ctx = await createServiceContext(storage, ENV, [AgentsModule]);
    if (usingPostgres) {
      // A session of its own sees the database's setting (the product's sessions set hex). PGlite
      // is one session, the product's, so there is no other to look from.
      const raw = await openTestDatabase(storage);
      try {
        const client = await raw.client();
        expect((await client.query<{ bytea_output: string }>('SHOW bytea_output')).rows[0]!.bytea_output).toBe('escape');
      } finally {
        await raw.close();
      }
    }

    const orgId = (await ctx.get(ApiKeyService).issue('org-medium')).orgId;
    const agents = ctx.get(AgentsService);
    const ports = [8441, 8442, 8443];
    const created = await agents.create(orgId, {
      name: 'three',
      instructions: null,
      temperature: null,
      maxTokens: null,
      metadata: {},
      llm: ports.map((port, i) => ({
        baseUrl: `https://127.0.0.1:${port}/v1`,
        model: `m${i}`,
        api: 'chat_completions' as const,
        apiKey: `${KEY}-${i}`,
      })),
    });

    if (!('agent' in created)) throw new Error('expected a new agent');
    const runnable = await agents.getRunnable(orgId, created.agent.id);
    expect(runnable.llm.map((e) => e.model)).toEqual(['m0', 'm1', 'm2']);
    const credentials = ctx.get(CredentialsService);
    const opened = await Promise.all(
      runnable.llm.map((entry) => credentials.withSecret(orgId, entry.credential, `${entry.baseUrl}/chat/completions`, (key) => key)),
    );
    expect(opened).toEqual([`${KEY}-0`, `${KEY}-1`, `${KEY}-2`]);
    // What a reply holds serializes to no sealed bytes.
    expect(JSON.stringify(runnable)).not.toMatch(/ciphertext|wrapped|nonce/i);
  });
});

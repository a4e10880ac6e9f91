import type { INestApplicationContext } from '@nestjs/common';
import { AgentsModule, AgentsService, type InlineLlmEntry } from '#agentplane/agents';
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
      tools: [],
      systemTools: {},
      forwardMetadata: false,
      variables: {},
      llm: ports.map((port, i) => ({
        baseUrl: `https://127.0.0.1:${port}/v1`,
        model: `m${i}`,
        api: 'chat_completions' as const,
        auth: 'bearer' as const,
        apiKey: `${KEY}-${i}`,
        headers: [],
      })),
    });

    if (!('agent' in created)) throw new Error('expected a new agent');
    const runnable = await agents.getRunnable(orgId, created.agent.id);
    expect(runnable.llm.map((e) => e.model)).toEqual(['m0', 'm1', 'm2']);
    const credentials = ctx.get(CredentialsService);
    const opened = await Promise.all(
      runnable.llm.map((entry) => credentials.withSecret(orgId, entry.credential!, `${entry.baseUrl}/chat/completions`, (key) => key)),
    );
    expect(opened).toEqual([`${KEY}-0`, `${KEY}-1`, `${KEY}-2`]);
    // What a reply holds serializes to no sealed bytes.
    expect(JSON.stringify(runnable)).not.toMatch(/ciphertext|wrapped|nonce/i);
  });

  it('stores the conversation contract as given: JSON keys in their order, secret header values sealed for the entry, no key for auth none', async () => {
    ctx = await createServiceContext(storage, ENV, [AgentsModule]);
    const orgId = (await ctx.get(ApiKeyService).issue('org-contract')).orgId;
    const agents = ctx.get(AgentsService);
    const target = await agents.create(orgId, {
      name: 'target',
      instructions: null,
      temperature: null,
      maxTokens: null,
      metadata: {},
      tools: [],
      systemTools: {},
      forwardMetadata: false,
      variables: {},
      llm: [],
    });
    if (!('agent' in target)) throw new Error('expected a new agent');
    // Keys in an order jsonb would not keep (it sorts by length, then bytes).
    const parameters = { type: 'object', properties: { zeta: { type: 'string' }, a: { type: 'integer' } }, required: ['zeta'] };
    const extraBody = { top_k: 40, chat_template_kwargs: { enable_thinking: false }, a: 1 };
    const systemTools = {
      end_call: {},
      transfer_to_agent: { transfers: [{ agentId: target.agent.id, condition: 'billing questions' }] },
      transfer_to_number: { transfers: [{ number: '+15550100', condition: 'a human is asked for' }] },
    };
    const created = await agents.create(orgId, {
      name: 'contract',
      instructions: 'Hello {{first_name}}',
      temperature: null,
      maxTokens: null,
      metadata: {},
      tools: [{ name: 'lookup_order', description: 'Finds an order', parameters }],
      systemTools,
      forwardMetadata: true,
      variables: { first_name: 'there' },
      llm: [
        {
          baseUrl: 'https://127.0.0.1:8441/v1',
          model: 'm',
          api: 'chat_completions',
          auth: 'x_api_key',
          apiKey: KEY,
          extraBody,
          headers: [
            { name: 'X-Team', value: 'voice' },
            { name: 'X-Gateway-Key', secretValue: 'gw-secret-0123456789abcdef' },
          ],
        },
        { baseUrl: 'https://127.0.0.1:8442/v1', model: 'local', api: 'responses', auth: 'none', headers: [] },
      ],
    });
    if (!('agent' in created)) throw new Error('expected a new agent');
    const read = await agents.get(orgId, created.agent.id);
    expect(JSON.stringify(read.tools[0]!.parameters)).toBe(JSON.stringify(parameters));
    expect(JSON.stringify((read.llm[0] as InlineLlmEntry).extraBody)).toBe(JSON.stringify(extraBody));
    expect(read.systemTools).toEqual(systemTools);
    expect(read).toMatchObject({ forwardMetadata: true, variables: { first_name: 'there' } });
    expect((read.llm[0] as InlineLlmEntry).headers).toEqual([
      { name: 'X-Team', value: 'voice' },
      { name: 'X-Gateway-Key', credentialId: expect.stringMatching(/^cred_/), valueHint: '****cdef' },
    ]);
    expect(read.llm[1]).toMatchObject({ auth: 'none', credentialId: null, apiKeyHint: null, ownedKey: false, headers: [] });

    const runnable = await agents.getRunnable(orgId, created.agent.id);
    const secret = runnable.llm[0]!.headers[1]!;
    if (!('credential' in secret)) throw new Error('expected a secret header');
    const credentials = ctx.get(CredentialsService);
    expect(await credentials.withSecret(orgId, secret.credential, 'https://127.0.0.1:8441/v1/chat/completions', (v) => v)).toBe(
      'gw-secret-0123456789abcdef',
    );
    // Bound to the entry's origin like a key: not for the other entry's.
    await expect(credentials.withSecret(orgId, secret.credential, 'https://127.0.0.1:8442/v1/responses', (v) => v)).rejects.toThrow();
    expect(runnable.llm[1]!.credential).toBeNull();

    // Replacing without the secret value keeps it; leaving the header out lets it go.
    const kept = await agents.replace(orgId, created.agent.id, {
      ...read,
      llm: [
        {
          baseUrl: 'https://127.0.0.1:8441/v1',
          model: 'm',
          api: 'chat_completions',
          auth: 'x_api_key',
          headers: [{ name: 'x-gateway-key' }],
        },
      ],
    });
    expect((kept.llm[0] as InlineLlmEntry).headers).toEqual([
      { name: 'x-gateway-key', credentialId: secret.credentialId, valueHint: '****cdef' },
    ]);
    await agents.replace(orgId, created.agent.id, {
      ...read,
      llm: [{ baseUrl: 'https://127.0.0.1:8441/v1', model: 'm', api: 'chat_completions', auth: 'x_api_key', headers: [] }],
    });
    const prisma = ctx.get(PrismaService);
    expect(await prisma.credential.count({ where: { id: secret.credentialId } })).toBe(0);
  });
});

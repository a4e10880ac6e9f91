import type { INestApplicationContext } from '@nestjs/common';
import { AgentsModule, AgentsService } from '#agentplane/agents';
import { ApiKeyService, type OrgId } from '#agentplane/auth';
import { PrismaService } from '#agentplane/db';
import { CommonErrorCode, DomainError } from '#agentplane/errors';
import { IdempotencyModule, IdempotencyPurger, IdempotencyService } from '#agentplane/idempotency';
import { createServiceContext } from '../support/nest-context.js';
import { createTestStorage, type TestStorage } from '../support/storage.js';

// Public IP literals: the save-time check needs no DNS for them.
const BASE_URL = 'https://93.184.216.34/v1';
const present = (agent: { id: string }) => ({ status: 201, headers: { location: `/v1/agents/${agent.id}` }, body: { id: agent.id } });
const input = (name: string, baseUrl = BASE_URL) => ({
  name,
  instructions: null,
  temperature: null,
  maxTokens: null,
  metadata: {},
  tools: [],
  systemTools: {},
  forwardMetadata: false,
  variables: {},
  llm: [
    {
      baseUrl,
      model: 'm',
      api: 'chat_completions' as const,
      auth: 'bearer' as const,
      apiKey: 'sk-idempotency-0123456789abcdef',
      headers: [],
    },
  ],
});

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof DomainError) return String(error.code);
    throw error;
  }
  throw new Error('expected a DomainError');
}

describe('Idempotency-Key records, against a real database', () => {
  let storage: TestStorage;
  let ctx: INestApplicationContext;
  let orgId: OrgId;
  let prisma: PrismaService;

  beforeAll(async () => {
    storage = await createTestStorage();
    ctx = await createServiceContext(storage, {}, [AgentsModule, IdempotencyModule.forServing()]);
    orgId = (await ctx.get(ApiKeyService).issue('org-idempotency')).orgId;
    prisma = ctx.get(PrismaService);
  });

  afterAll(async () => {
    await ctx?.close();
    await storage?.dispose();
  });

  const rows = async (key: string) =>
    prisma.$queryRaw<{ status_code: number }[]>`SELECT status_code FROM idempotency_keys WHERE key = ${key}`;

  it('stores the response that was sent, in the creating transaction, and replays it for the same request', async () => {
    const agents = ctx.get(AgentsService);
    const first = await agents.create(orgId, input('once'), { key: 'k-same', request: 'POST /v1/agents {"a":1}', present });
    if (!('agent' in first)) throw new Error('expected a new agent');
    expect(await rows('k-same')).toEqual([{ status_code: 201 }]);
    const again = await agents.create(orgId, input('once'), { key: 'k-same', request: 'POST /v1/agents {"a":1}', present });
    expect(again).toEqual({ replay: present(first.agent) });
    expect(await codeOf(agents.create(orgId, input('other'), { key: 'k-same', request: 'POST /v1/agents {"a":2}', present }))).toBe(
      CommonErrorCode.IdempotencyKeyReused,
    );
    expect(await prisma.agent.count({ where: { orgId } })).toBe(1);
  });

  it('claims the key before the base_url check, and gives it back when the request fails, so a fixed retry runs', async () => {
    const agents = ctx.get(AgentsService);
    const refused = agents.create(orgId, input('bad', 'https://10.0.0.1/v1'), {
      key: 'k-retry',
      request: 'POST /v1/agents {"b":1}',
      present,
    });
    expect(await codeOf(refused)).toBe(CommonErrorCode.ValidationFailed);
    expect(await rows('k-retry')).toEqual([]);
    const retried = await agents.create(orgId, input('good'), { key: 'k-retry', request: 'POST /v1/agents {"b":1}', present });
    expect('agent' in retried).toBe(true);
  });

  it('makes a retry that comes while the first request is still at work wait for its response', async () => {
    const idempotency = ctx.get(IdempotencyService);
    const claimed = await idempotency.claim(orgId, { key: 'k-wait', request: 'r' });
    if (claimed.kind !== 'claimed') throw new Error('expected a claim');
    const waiting = idempotency.claim(orgId, { key: 'k-wait', request: 'r' });
    await new Promise((resolve) => setTimeout(resolve, 100));
    await prisma.$transaction((tx) => idempotency.complete(tx, claimed.claim, { status: 201, headers: {}, body: { done: true } }));
    await expect(waiting).resolves.toEqual({ kind: 'replay', response: { status: 201, headers: {}, body: { done: true } } });
  });

  it('lets a retry take over a claim whose request died, and then the late first request cannot complete it', async () => {
    const idempotency = ctx.get(IdempotencyService);
    const first = await idempotency.claim(orgId, { key: 'k-stale', request: 'r' });
    if (first.kind !== 'claimed') throw new Error('expected a claim');
    await prisma.$executeRaw`UPDATE idempotency_keys SET created_at = now() - interval '5 minutes' WHERE key = 'k-stale'`;
    const second = await idempotency.claim(orgId, { key: 'k-stale', request: 'r' });
    expect(second.kind).toBe('claimed');
    // The first request's completion belongs to a claim that is no longer there: it rolls back.
    expect(await codeOf(prisma.$transaction((tx) => idempotency.complete(tx, first.claim, { status: 201, headers: {}, body: {} })))).toBe(
      CommonErrorCode.IdempotencyKeyInProgress,
    );
    // Nor can its release free the second's claim.
    await idempotency.release(first.claim);
    expect(await rows('k-stale')).toEqual([{ status_code: 0 }]);
    if (second.kind !== 'claimed') throw new Error('expected a claim');
    await prisma.$transaction((tx) => idempotency.complete(tx, second.claim, { status: 201, headers: {}, body: { second: true } }));
    await expect(idempotency.claim(orgId, { key: 'k-stale', request: 'r' })).resolves.toEqual({
      kind: 'replay',
      response: { status: 201, headers: {}, body: { second: true } },
    });
  });

  it('purges expired keys of every organization on its schedule, not only on the next request', async () => {
    const idempotency = ctx.get(IdempotencyService);
    await idempotency.claim(orgId, { key: 'k-old', request: 'r' });
    await idempotency.claim(orgId, { key: 'k-new', request: 'r' });
    await prisma.$executeRaw`UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE key = 'k-old'`;
    expect(await ctx.get(IdempotencyPurger).purge()).toBe(1);
    expect(await rows('k-old')).toEqual([]);
    expect(await rows('k-new')).toHaveLength(1);
  });
});

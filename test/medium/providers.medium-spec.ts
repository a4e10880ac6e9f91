import type { INestApplicationContext } from '@nestjs/common';
import { type AgentInput, AgentsModule, AgentsService } from '#agentplane/agents';
import { ApiKeyService, type OrgId } from '#agentplane/auth';
import { CredentialsService } from '#agentplane/credentials';
import { PrismaService } from '#agentplane/db';
import { type ProviderInput, ProvidersService } from '#agentplane/providers';
import { createServiceContext } from '../support/nest-context.js';
import { createTestStorage, type TestStorage } from '../support/storage.js';

const ENV = { AGENTPLANE_EGRESS_ALLOWLIST: '127.0.0.1' };
const KEY = 'sk-provider-0123456789abcdefghijklmnop';
const SECRET = 'gw-provider-secret-0123456789abcdef';

const AGENT: Omit<AgentInput, 'llm'> = {
  name: 'uses a provider',
  instructions: null,
  temperature: null,
  maxTokens: null,
  metadata: {},
  tools: [],
  systemTools: {},
  forwardMetadata: false,
  variables: {},
};

const PROVIDER: ProviderInput = {
  name: 'gateway',
  api: 'anthropic',
  baseUrl: 'https://127.0.0.1:8451/v1',
  auth: 'x_api_key',
  apiKey: KEY,
  headers: [
    { name: 'X-Gateway-Key', secretValue: SECRET },
    { name: 'X-Team', value: 'voice' },
  ],
  extraBody: { top_k: 5 },
  modelMap: { 'claude-sonnet-4-6': 'claude-v2' },
};

describe('providers against a real database', () => {
  let storage: TestStorage;
  let ctx: INestApplicationContext;
  let orgId: OrgId;

  beforeEach(async () => {
    storage = await createTestStorage();
    ctx = await createServiceContext(storage, ENV, [AgentsModule]);
    orgId = (await ctx.get(ApiKeyService).issue('org-providers')).orgId;
  });

  afterEach(async () => {
    await ctx?.close();
    await storage.dispose();
  });

  it('resolves an entry that uses a provider in the agent’s one query: its endpoint, sealed key and headers, the model mapped', async () => {
    const providers = ctx.get(ProvidersService);
    const created = await providers.create(orgId, PROVIDER);
    if (!('provider' in created)) throw new Error('expected a new provider');
    const provider = created.provider;
    const agents = ctx.get(AgentsService);
    const made = await agents.create(orgId, {
      ...AGENT,
      llm: [
        { providerId: provider.id, model: 'claude-sonnet-4-6', timeouts: { idle_ms: 900 } },
        { providerId: provider.id, model: 'unmapped' },
      ],
    });
    if (!('agent' in made)) throw new Error('expected a new agent');
    expect(made.agent.llm).toEqual([
      { providerId: provider.id, model: 'claude-sonnet-4-6', timeouts: { idle_ms: 900 } },
      { providerId: provider.id, model: 'unmapped' },
    ]);

    const runnable = await agents.getRunnable(orgId, made.agent.id);
    const [first, second] = runnable.llm;
    expect(first).toMatchObject({
      providerId: provider.id,
      baseUrl: 'https://127.0.0.1:8451/v1',
      api: 'anthropic',
      auth: 'x_api_key',
      model: 'claude-v2',
      timeouts: { idle_ms: 900 },
      extraBody: { top_k: 5 },
      ownedKey: true,
    });
    expect(second!.model).toBe('unmapped');
    const credentials = ctx.get(CredentialsService);
    const target = 'https://127.0.0.1:8451/v1/messages';
    expect(await credentials.withSecret(orgId, first!.credential!, target, (v) => v)).toBe(KEY);
    const header = first!.headers[0]!;
    if (!('credential' in header)) throw new Error('expected a secret header');
    expect(await credentials.withSecret(orgId, header.credential, target, (v) => v)).toBe(SECRET);
    expect(first!.headers[1]).toEqual({ name: 'X-Team', value: 'voice' });
  });

  it('refuses, in the database itself, an entry that names a provider and holds an endpoint too', async () => {
    const created = await ctx.get(ProvidersService).create(orgId, { ...PROVIDER, apiKey: undefined, auth: 'none', headers: [] });
    if (!('provider' in created)) throw new Error('expected a new provider');
    const made = await ctx.get(AgentsService).create(orgId, { ...AGENT, llm: [{ providerId: created.provider.id, model: 'm' }] });
    if (!('agent' in made)) throw new Error('expected a new agent');
    const prisma = ctx.get(PrismaService);
    await expect(
      prisma.$executeRawUnsafe(`UPDATE agent_llm_entries SET base_url = 'https://127.0.0.1:8451/v1' WHERE agent_id = $1`, made.agent.id),
    ).rejects.toThrow(/agent_llm_entries_endpoint_check/);
    await expect(
      prisma.$executeRawUnsafe(`UPDATE agent_llm_entries SET provider_id = NULL WHERE agent_id = $1`, made.agent.id),
    ).rejects.toThrow(/agent_llm_entries_endpoint_check/);
  });

  it('deletes a provider’s keys with it, and moves the agents whose entries it takes to their next version', async () => {
    const providers = ctx.get(ProvidersService);
    const created = await providers.create(orgId, PROVIDER);
    if (!('provider' in created)) throw new Error('expected a new provider');
    const agents = ctx.get(AgentsService);
    const made = await agents.create(orgId, { ...AGENT, llm: [{ providerId: created.provider.id, model: 'm' }] });
    if (!('agent' in made)) throw new Error('expected a new agent');
    const prisma = ctx.get(PrismaService);
    const owned = () => prisma.credential.count({ where: { ownerProviderId: created.provider.id } });
    expect(await owned()).toBe(2);

    await expect(providers.delete(orgId, created.provider.id, false)).rejects.toMatchObject({ code: 'provider_in_use' });
    await providers.delete(orgId, created.provider.id, true);
    expect(await owned()).toBe(0);
    expect(await prisma.credential.count()).toBe(0);
    const after = await agents.get(orgId, made.agent.id);
    expect(after.llm).toEqual([]);
    expect(after.version).toBe(made.agent.version + 1);
  });
});

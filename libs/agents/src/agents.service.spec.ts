import { jest } from '@jest/globals';
import { asOrgId, type OrgId } from '#agentplane/auth';
import type { AppConfig } from '#agentplane/config';
import type { Clock } from '#agentplane/clock';
import type { CredentialReference, CredentialRefs, CredentialsService, KeyOwner, OwnedKeyInput } from '#agentplane/credentials';
import type { Transaction, UnitOfWork } from '#agentplane/db';
import { EgressPolicy, HostResolver } from '#agentplane/egress';
import { CommonError, CommonErrorCode, DomainError } from '#agentplane/errors';
import type { IdempotencyService } from '#agentplane/idempotency';
import type { Logger } from '#agentplane/logging';
import { etagMatches } from '#agentplane/db';
import { EndpointsErrorCode as AgentsErrorCode, EndpointsService, type StoredEndpoint } from '#agentplane/endpoints';
import type { ProvidersService } from '#agentplane/providers';
import { type Agent, agentEtag, type InlineLlmEntry } from './agent.js';
import type { AgentFields, AgentRepository, StoredEntry } from './agent.repository.js';
import { type AgentInput, AgentsService, type InlineEntryInput, type LlmEntryInput } from './agents.service.js';

const ORG = asOrgId('org_test');
const NOW = new Date('2026-11-24T12:00:00.000Z');
const PUBLIC_A = '93.184.216.34';

class TableResolver extends HostResolver {
  constructor(private readonly table: Record<string, string[]>) {
    super();
  }
  async resolve(host: string): Promise<string[]> {
    return this.table[host] ?? [];
  }
}

function entry(overrides: Partial<InlineLlmEntry> = {}): InlineLlmEntry {
  return {
    baseUrl: 'https://api.example.com/v1',
    model: 'm',
    api: 'chat_completions',
    auth: 'bearer',
    credentialId: 'cred_owned0',
    apiKeyHint: '****abcd',
    ownedKey: true,
    headers: [],
    ...overrides,
  };
}

function agent(overrides: Partial<Agent> = {}): Agent {
  return {
    id: 'agt_1',
    orgId: ORG,
    name: 'A',
    instructions: null,
    temperature: null,
    maxTokens: null,
    metadata: {},
    tools: [],
    systemTools: {},
    forwardMetadata: false,
    variables: {},
    llm: [entry()],
    version: 1,
    createdAt: new Date('2026-11-01T00:00:00.000Z'),
    updatedAt: new Date('2026-11-01T00:00:00.000Z'),
    ...overrides,
  };
}

/** An entry as a test writes it: bearer auth and no headers unless said. */
type EntryInput =
  | (Omit<InlineEntryInput, 'auth' | 'headers'> & Partial<Pick<InlineEntryInput, 'auth' | 'headers'>>)
  | Exclude<LlmEntryInput, InlineEntryInput>;

function input(llm: readonly EntryInput[], overrides: Partial<AgentInput> = {}): AgentInput {
  return {
    name: 'A',
    instructions: null,
    temperature: null,
    maxTokens: null,
    metadata: {},
    tools: [],
    systemTools: {},
    forwardMetadata: false,
    variables: {},
    llm: llm.map((e): LlmEntryInput => ('providerId' in e ? e : { auth: 'bearer', headers: [], ...e })),
    ...overrides,
  };
}

interface Written {
  fields?: AgentFields;
  entries?: readonly StoredEntry[];
  keptOwned?: readonly string[];
}

function setup(
  options: { current?: Agent; refs?: CredentialReference[]; replay?: { request: string }; agents?: string[]; providers?: string[] } = {},
) {
  const resolver = new TableResolver({
    'api.example.com': [PUBLIC_A],
    'other.example.com': ['2606:2800:220:1:248:1893:25c8:1946'],
    'mixed.example.com': [PUBLIC_A, '10.0.0.7'],
  });
  const logger = { warn: jest.fn(), info: jest.fn(), error: jest.fn(), debug: jest.fn() } as unknown as Logger;
  const egress = new EgressPolicy({ egressAllowlist: [], egressPrivateNetworks: [] } as unknown as AppConfig, resolver, logger);
  const refs: CredentialRefs = new Map((options.refs ?? []).map((r) => [r.id, r]));
  const current = options.current ?? agent();
  const written: Written[] = [];
  const tx = {} as Transaction;
  const recordEntries = (entries: readonly StoredEntry[]): void => {
    if (written.length === 0 || written.at(-1)!.entries !== undefined) written.push({});
    written.at(-1)!.entries = entries;
  };
  const uow = { transaction: jest.fn(async <T>(work: (t: Transaction) => Promise<T>) => work(tx)) };
  const repository = {
    insert: jest.fn(async (_tx: Transaction, _orgId: OrgId, _id: string, fields: AgentFields) => void written.push({ fields })),
    update: jest.fn(async (_tx: Transaction, _orgId: OrgId, _id: string, fields: AgentFields) => void (written.at(-1)!.fields = fields)),
    replaceEntries: jest.fn(async (_tx: Transaction, _orgId: OrgId, _id: string, entries: readonly StoredEntry[]) =>
      recordEntries(entries),
    ),
    insertEntries: jest.fn(async (_tx: Transaction, _id: string, entries: readonly StoredEntry[]) => recordEntries(entries)),
    lockForUpdate: jest.fn(async () => current),
    find: jest.fn(async () => current),
    read: jest.fn(async (_tx: Transaction, orgId: OrgId, id: string) => agent({ id, orgId })),
    delete: jest.fn(async () => undefined),
    existingIds: jest.fn(
      async (_tx: Transaction, _orgId: OrgId, ids: readonly string[]) => new Set(ids.filter((id) => options.agents?.includes(id))),
    ),
  };
  const sealed: { apiKey: string; origin: string }[] = [];
  const credentials = {
    referencesFor: jest.fn(async () => refs),
    storeOwnedKey: jest.fn(async (_tx: Transaction, _orgId: OrgId, _owner: KeyOwner, key: OwnedKeyInput) => {
      sealed.push({ apiKey: key.apiKey, origin: key.origin });
      return `cred_new${sealed.length}`;
    }),
    deleteOwnedKeysExcept: jest.fn(async (_tx: Transaction, _orgId: OrgId, _owner: KeyOwner, keep: readonly string[]) => {
      written.at(-1)!.keptOwned = keep;
    }),
  };
  // Idempotency stands in for the claim: a replay when told to, and the same fingerprint rule.
  const idempotency = {
    run: jest.fn(async (_orgId: OrgId, request: { request: string } | undefined, work: (complete: undefined) => Promise<unknown>) => {
      if (request !== undefined && options.replay !== undefined) {
        if (request.request !== options.replay.request) throw new CommonError(CommonErrorCode.IdempotencyKeyReused, 'reused');
        return { replay: { status: 201, headers: {}, body: { id: current.id } } };
      }
      return { result: await work(undefined) };
    }),
  };
  const clock: Clock = { now: () => NOW, monotonicMs: () => 0, sleep: async () => undefined };
  const providers = {
    referencesFor: jest.fn(
      async (_tx: Transaction, _orgId: OrgId, ids: readonly string[]) => new Set(ids.filter((id) => options.providers?.includes(id))),
    ),
  };
  const service = new AgentsService(
    repository as unknown as AgentRepository,
    new EndpointsService(credentials as unknown as CredentialsService, egress),
    providers as unknown as ProvidersService,
    idempotency as unknown as IdempotencyService,
    uow as unknown as UnitOfWork,
    clock,
  );
  return { service, repository, written, sealed };
}

/** A stored entry with its own endpoint (every entry these tests write). */
function inline(entry: StoredEntry | undefined): StoredEndpoint {
  if (entry === undefined || !('baseUrl' in entry)) throw new Error('expected an inline entry');
  return entry;
}

async function failureOf(promise: Promise<unknown>): Promise<DomainError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DomainError);
  return error as DomainError;
}

describe('AgentsService: base_url at save time', () => {
  it('refuses a name that resolves to a public and a private address, and one that does not resolve, naming each entry', async () => {
    const { service, repository } = setup();
    const error = await failureOf(
      service.create(
        ORG,
        input([
          { baseUrl: 'https://api.example.com/v1', model: 'm', api: 'chat_completions', apiKey: 'sk-1' },
          { baseUrl: 'https://mixed.example.com/v1', model: 'm', api: 'chat_completions', apiKey: 'sk-2' },
          { baseUrl: 'https://gone.example.com/v1', model: 'm', api: 'chat_completions', apiKey: 'sk-3' },
        ]),
      ),
    );
    expect(error.code).toBe(CommonErrorCode.ValidationFailed);
    expect(error.errors).toEqual([
      { path: 'llm[1].base_url', code: 'private_host', message: expect.any(String) },
      { path: 'llm[2].base_url', code: 'unresolvable_host', message: expect.any(String) },
    ]);
    expect(repository.insert).not.toHaveBeenCalled();
  });

  it('stores the normalized base_url and seals an inline key for exactly its origin', async () => {
    const { service, written, sealed, repository } = setup();
    await service.create(ORG, input([{ baseUrl: 'https://API.Example.com:443/v1', model: 'm', api: 'responses', apiKey: 'sk-inline' }]));
    expect(sealed).toEqual([{ apiKey: 'sk-inline', origin: 'https://api.example.com' }]);
    expect(written[0]!.entries).toEqual([
      { baseUrl: 'https://api.example.com/v1', model: 'm', api: 'responses', auth: 'bearer', credentialId: 'cred_new1', headers: [] },
    ]);
    // One clock: created_at and updated_at both come from the service's clock, not the database's.
    expect(repository.insert).toHaveBeenCalledWith(expect.anything(), ORG, expect.stringMatching(/^agt_/), expect.anything(), NOW);
  });
});

describe('AgentsService: key sources', () => {
  const shared: CredentialReference = {
    id: 'cred_shared',
    allowedOrigins: ['https://api.example.com'],
    apiKeyHint: '****',
    owned: false,
  };

  it('accepts an org credential allowed for the origin; refuses one that is not (credential_origin_mismatch)', async () => {
    const { service } = setup({ refs: [shared] });
    await expect(
      service.create(
        ORG,
        input([{ baseUrl: 'https://api.example.com/v1', model: 'm', api: 'chat_completions', credentialId: 'cred_shared' }]),
      ),
    ).resolves.toMatchObject({ agent: expect.anything() });
    const error = await failureOf(
      service.create(
        ORG,
        input([{ baseUrl: 'https://other.example.com/v1', model: 'm', api: 'chat_completions', credentialId: 'cred_shared' }]),
      ),
    );
    expect(error.code).toBe(AgentsErrorCode.CredentialOriginMismatch);
    expect(error.errors).toEqual([{ path: 'llm[0].credential_id', code: 'credential_origin_mismatch', message: expect.any(String) }]);
  });

  it('treats a key another agent owns as no credential at all', async () => {
    const { service } = setup({ refs: [{ ...shared, owned: true }] });
    const error = await failureOf(
      service.create(
        ORG,
        input([{ baseUrl: 'https://api.example.com/v1', model: 'm', api: 'chat_completions', credentialId: 'cred_shared' }]),
      ),
    );
    expect(error.errors).toEqual([{ path: 'llm[0].credential_id', code: 'not_found', message: expect.any(String) }]);
  });

  it('on replace keeps the key at the same index only for the same origin', async () => {
    const { service, written, repository } = setup();
    await service.replace(ORG, 'agt_1', input([{ baseUrl: 'https://api.example.com/v2', model: 'n', api: 'chat_completions' }]));
    expect(inline(written[0]!.entries![0]).credentialId).toBe('cred_owned0');
    expect(written[0]!.keptOwned).toEqual(['cred_owned0']);
    expect(repository.update).toHaveBeenCalledWith(expect.anything(), ORG, 'agt_1', expect.anything(), NOW);

    const moved = await failureOf(
      service.replace(ORG, 'agt_1', input([{ baseUrl: 'https://api.example.com:8443/v1', model: 'n', api: 'chat_completions' }])),
    );
    expect(moved.code).toBe(AgentsErrorCode.ApiKeyRequired);
    expect(moved.errors).toEqual([{ path: 'llm[0].api_key', code: 'api_key_required', message: expect.any(String) }]);
  });

  it('on replace refuses to keep an org credential that no longer allows the origin', async () => {
    const current = agent({ llm: [entry({ credentialId: 'cred_shared', ownedKey: false })] });
    const { service } = setup({ current, refs: [{ ...shared, allowedOrigins: ['https://elsewhere.example.com'] }] });
    const error = await failureOf(
      service.replace(ORG, 'agt_1', input([{ baseUrl: 'https://api.example.com/v1', model: 'm', api: 'chat_completions' }])),
    );
    expect(error.code).toBe(AgentsErrorCode.CredentialOriginMismatch);
  });

  it('refuses a stale If-Match before deciding anything', async () => {
    const { service, written, repository } = setup();
    const error = await failureOf(service.replace(ORG, 'agt_1', input([]), ['"not-it"']));
    expect(error.code).toBe(CommonErrorCode.PreconditionFailed);
    expect(written).toEqual([]);
    await service.replace(ORG, 'agt_1', input([]), [agentEtag(agent())]);
    expect(written).toHaveLength(1);

    const stale = await failureOf(service.delete(ORG, 'agt_1', ['"not-it"']));
    expect(stale.code).toBe(CommonErrorCode.PreconditionFailed);
    expect(repository.delete).not.toHaveBeenCalled();
    await service.delete(ORG, 'agt_1', '*');
    expect(repository.delete).toHaveBeenCalledTimes(1);
  });
});

describe('AgentsService: auth schemes and headers', () => {
  const BASE = { baseUrl: 'https://api.example.com/v1', model: 'm', api: 'chat_completions' } as const;

  it('stores no key for auth none, and refuses a key source given with it', async () => {
    const { service, written, sealed } = setup();
    await service.create(ORG, input([{ ...BASE, auth: 'none' }]));
    expect(written[0]!.entries).toEqual([{ ...BASE, auth: 'none', credentialId: null, headers: [] }]);
    expect(sealed).toEqual([]);
    const error = await failureOf(service.create(ORG, input([{ ...BASE, auth: 'none', apiKey: 'sk-1', credentialId: 'cred_x' }])));
    expect(error.errors).toEqual(
      expect.arrayContaining([
        { path: 'llm[0].api_key', code: 'not_allowed_with_auth_none', message: expect.any(String) },
        { path: 'llm[0].credential_id', code: 'not_allowed_with_auth_none', message: expect.any(String) },
      ]),
    );
  });

  it('on replace to auth none lets go of the owned key', async () => {
    const { service, written } = setup();
    await service.replace(ORG, 'agt_1', input([{ ...BASE, auth: 'none' }]));
    expect(inline(written[0]!.entries![0]).credentialId).toBeNull();
    expect(written[0]!.keptOwned).toEqual([]);
  });

  it('seals a secret header value for the entry origin, keeps plain ones as they are', async () => {
    const { service, written, sealed } = setup();
    await service.create(
      ORG,
      input([
        {
          ...BASE,
          apiKey: 'sk-1',
          headers: [
            { name: 'X-Team', value: 'voice' },
            { name: 'X-Gateway-Key', secretValue: 'gw-secret-value-0123456789' },
          ],
        },
      ]),
    );
    expect(sealed).toEqual([
      { apiKey: 'gw-secret-value-0123456789', origin: 'https://api.example.com' },
      { apiKey: 'sk-1', origin: 'https://api.example.com' },
    ]);
    expect(inline(written[0]!.entries![0]).headers).toEqual([
      { name: 'X-Team', value: 'voice' },
      { name: 'X-Gateway-Key', credentialId: 'cred_new1', valueHint: '****6789' },
    ]);
  });

  it('keeps a stored secret header for the same index, origin and name only', async () => {
    const current = agent({ llm: [entry({ headers: [{ name: 'X-Gateway-Key', credentialId: 'cred_hdr', valueHint: '****6789' }] })] });
    const { service, written } = setup({ current });
    await service.replace(ORG, 'agt_1', input([{ ...BASE, headers: [{ name: 'x-gateway-key' }] }]));
    expect(inline(written[0]!.entries![0]).headers).toEqual([{ name: 'x-gateway-key', credentialId: 'cred_hdr', valueHint: '****6789' }]);
    expect(written[0]!.keptOwned).toEqual(['cred_owned0', 'cred_hdr']);

    for (const llm of [
      [{ ...BASE, headers: [{ name: 'X-Other' }] }],
      [{ ...BASE, baseUrl: 'https://other.example.com/v1', apiKey: 'sk-2', headers: [{ name: 'X-Gateway-Key' }] }],
      [
        { ...BASE, auth: 'none' as const },
        { ...BASE, apiKey: 'sk-2', headers: [{ name: 'X-Gateway-Key' }] },
      ],
    ]) {
      const error = await failureOf(service.replace(ORG, 'agt_1', input(llm)));
      expect(error.errors).toEqual([
        { path: `llm[${llm.length - 1}].headers[0].secret_value`, code: 'secret_value_required', message: expect.any(String) },
      ]);
    }
  });

  it('refuses a masked secret header value', async () => {
    const { service } = setup();
    const error = await failureOf(
      service.create(ORG, input([{ ...BASE, apiKey: 'sk-1', headers: [{ name: 'X-K', secretValue: '****6789' }] }])),
    );
    expect(error.code).toBe('masked_value_submitted');
    expect(error.errors).toEqual([{ path: 'llm[0].headers[0].secret_value', code: 'masked_value_submitted', message: expect.any(String) }]);
  });
});

describe('AgentsService: tools and system tools', () => {
  it('refuses a custom tool named like an enabled system tool, not like a disabled one', async () => {
    const { service } = setup();
    const error = await failureOf(
      service.create(ORG, input([], { tools: [{ name: 'lookup' }, { name: 'end_call' }], systemTools: { end_call: {} } })),
    );
    expect(error.errors).toEqual([{ path: 'tools[1].name', code: 'duplicate_name', message: expect.any(String) }]);
    await expect(service.create(ORG, input([], { tools: [{ name: 'end_call' }] }))).resolves.toMatchObject({ agent: expect.anything() });
  });

  it('checks transfer targets are other agents of the organization', async () => {
    const { service, repository } = setup({ agents: ['agt_2'] });
    const transfers = (ids: string[]) => ({ transfer_to_agent: { transfers: ids.map((agentId) => ({ agentId, condition: 'c' })) } });
    await service.replace(ORG, 'agt_1', input([], { systemTools: transfers(['agt_2']) }));
    expect(repository.existingIds).toHaveBeenCalledWith(expect.anything(), ORG, ['agt_2']);
    const error = await failureOf(service.replace(ORG, 'agt_1', input([], { systemTools: transfers(['agt_2', 'agt_9', 'agt_1']) })));
    expect(error.errors).toEqual([
      { path: 'system_tools.transfer_to_agent.transfers[1].agent_id', code: 'not_found', message: expect.any(String) },
      { path: 'system_tools.transfer_to_agent.transfers[2].agent_id', code: 'self_transfer', message: expect.any(String) },
    ]);
  });
});

describe('AgentsService: update (a merge patch, computed at the edge)', () => {
  it('computes the change from the agent as it is, and stores it only if the agent is still that version', async () => {
    const { service, written } = setup();
    const change = jest.fn(async (current: Agent) => input([], { name: `${current.name}!` }));
    await service.update(ORG, 'agt_1', change);
    expect(change).toHaveBeenCalledWith(agent());
    expect(written[0]!.fields!.name).toBe('A!');
  });

  it('reads and changes again when the agent changed between the read and the write', async () => {
    const { service, repository, written } = setup();
    const newer = agent({ version: 2, name: 'B' });
    repository.find.mockResolvedValueOnce(agent()).mockResolvedValue(newer);
    repository.lockForUpdate.mockResolvedValue(newer);
    const change = jest.fn(async (current: Agent) => input([], { name: `${current.name}!` }));
    await service.update(ORG, 'agt_1', change);
    expect(change).toHaveBeenCalledTimes(2);
    expect(written.at(-1)!.fields!.name).toBe('B!');
  });

  it("refuses with 412 when the caller's If-Match is not current, without computing the change", async () => {
    const { service, written } = setup();
    const change = jest.fn(async () => input([]));
    const error = await failureOf(service.update(ORG, 'agt_1', change, ['"old"']));
    expect(error.code).toBe(CommonErrorCode.PreconditionFailed);
    expect(change).not.toHaveBeenCalled();
    expect(written).toEqual([]);
  });
});

describe('AgentsService: Idempotency-Key', () => {
  it('replays for the same request and refuses another one', async () => {
    const same = setup({ replay: { request: 'POST /v1/agents {"name":"A"}' } });
    const present = () => ({ status: 201, headers: {}, body: {} });
    await expect(
      same.service.create(ORG, input([]), { key: 'k', request: 'POST /v1/agents {"name":"A"}', present }),
    ).resolves.toMatchObject({
      replay: { status: 201 },
    });
    expect(same.repository.insert).not.toHaveBeenCalled();
    const error = await failureOf(same.service.create(ORG, input([]), { key: 'k', request: 'POST /v1/agents {"name":"B"}', present }));
    expect(error.code).toBe(CommonErrorCode.IdempotencyKeyReused);
  });
});

describe('agentEtag / etagMatches', () => {
  it('changes with the version, the entries and the time; is stable otherwise', () => {
    const base = agent();
    expect(agentEtag(base)).toBe(agentEtag(agent()));
    expect(agentEtag(agent({ version: 2 }))).not.toBe(agentEtag(base));
    expect(agentEtag(agent({ llm: [] }))).not.toBe(agentEtag(base));
    expect(agentEtag(agent({ llm: [entry({ apiKeyHint: '****wxyz' })] }))).not.toBe(agentEtag(base));
    expect(agentEtag(agent({ updatedAt: NOW }))).not.toBe(agentEtag(base));
    expect(agentEtag(agent({ metadata: { a: '1', b: '2' } }))).toBe(agentEtag(agent({ metadata: { b: '2', a: '1' } })));
  });

  it.each([
    [['"x"'], '"x"', true],
    [['"y"', '"x"'], '"x"', true],
    ['*', '"x"', true],
    [[], '"x"', false],
    [['"y"'], '"x"', false],
  ] as const)('If-Match %j against %s → %s', (condition, etag, expected) => {
    expect(etagMatches(condition, etag)).toBe(expected);
  });
});

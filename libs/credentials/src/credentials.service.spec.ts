import { jest } from '@jest/globals';
import { asOrgId, type OrgId } from '#agentplane/auth';
import type { Clock } from '#agentplane/clock';
import { encodeCursor, type Page, type PageRequest, type Transaction, type UnitOfWork } from '#agentplane/db';
import { CommonErrorCode, DomainError } from '#agentplane/errors';
import { MasterKeyRing, type SealedSecret, SecretSealer, SecretUnavailableError, secretHint, Sodium } from '#agentplane/keys';
import type { Logger } from '#agentplane/logging';
import { type Credential, LoadedCredential, type SealedCredential } from './credential.js';
import {
  type CredentialChanges,
  type CredentialRepository,
  credentialSecretContext as secretContext,
  type NewCredential,
} from './credential.repository.js';
import { CredentialsErrorCode } from './credentials.error.js';
import { CredentialsService } from './credentials.service.js';

const ErrorCode = { ...CommonErrorCode, ...CredentialsErrorCode };
type ErrorCode = CommonErrorCode | CredentialsErrorCode;

const NOW = new Date('2026-11-22T10:00:00.000Z');
const ORG = asOrgId('org_test');
const OTHER_ORG = asOrgId('org_other');
const API_KEY = 'sk-proj-Zq8mK2vT9xWc4LbN7rHs1YdF6gJp3QeU';
const NEW_API_KEY = 'sk-proj-NEWkey0000000000000000000000000001';
const CRED_ID = 'cred_5k2m9xq7rt3vz8w1bc4dn6hp0g';
const ORIGINS = ['https://api.example.com', 'https://llm.example.org:8443'];

let sodium: Sodium;

beforeAll(async () => {
  sodium = await Sodium.load();
});

function credential(overrides: Partial<Credential> = {}): Credential {
  return {
    id: CRED_ID,
    orgId: ORG,
    name: 'OpenAI',
    apiKeyHint: secretHint(API_KEY),
    allowedOrigins: ORIGINS,
    createdAt: new Date('2026-11-01T00:00:00.000Z'),
    updatedAt: new Date('2026-11-01T00:00:00.000Z'),
    lastUsedAt: null,
    ...overrides,
  };
}

function setup(options: { current?: Credential; lastUsedAt?: Date | null } = {}) {
  const logger = { warn: jest.fn(), info: jest.fn(), error: jest.fn(), debug: jest.fn() };
  const sealer = new SecretSealer(
    sodium,
    new MasterKeyRing([{ id: 'mk-test', key: new Uint8Array(Buffer.alloc(32, 9)) }], 'test'),
    logger as unknown as Logger,
  );
  const current = options.current ?? credential();
  const stored: SealedCredential = {
    ...current,
    lastUsedAt: options.lastUsedAt === undefined ? null : options.lastUsedAt,
    sealed: sealer.seal(API_KEY, secretContext(ORG, CRED_ID)),
  };
  const changes: CredentialChanges[] = [];
  const repository = {
    insert: jest.fn(async (orgId: OrgId, data: NewCredential, _db?: Transaction): Promise<Credential> =>
      credential({ id: data.id, orgId, name: data.name, apiKeyHint: data.apiKeyHint, allowedOrigins: data.allowedOrigins }),
    ),
    list: jest.fn(async (_orgId: OrgId, _page: PageRequest): Promise<Page<Credential>> => ({ data: [], hasMore: false, nextCursor: null })),
    find: jest.fn(async (_orgId: OrgId, _id: string): Promise<Credential | undefined> => undefined),
    findSealed: jest.fn(async (_orgId: OrgId, _id: string): Promise<SealedCredential | undefined> => stored),
    lockForUpdate: jest.fn(async (_tx: Transaction, _orgId: OrgId, _id: string): Promise<Credential | undefined> => current),
    update: jest.fn(async (_tx: Transaction, _orgId: OrgId, _id: string, change: CredentialChanges, now: Date): Promise<Credential> => {
      changes.push(change);
      return {
        ...current,
        name: change.name,
        allowedOrigins: change.allowedOrigins,
        apiKeyHint: change.secret?.apiKeyHint ?? current.apiKeyHint,
        updatedAt: now,
      };
    }),
    lockForDelete: jest.fn(async (_tx: Transaction, _orgId: OrgId, _id: string): Promise<boolean> => true),
    isReferenced: jest.fn(async (_tx: Transaction, _orgId: OrgId, _id: string): Promise<boolean> => false),
    isProviderKey: jest.fn(async (_tx: Transaction, _orgId: OrgId, _id: string): Promise<boolean> => false),
    deleteReferences: jest.fn(async (_tx: Transaction, _orgId: OrgId, _id: string): Promise<void> => undefined),
    delete: jest.fn(async (_tx: Transaction, _orgId: OrgId, _id: string): Promise<void> => undefined),
    recordUse: jest.fn(async (_orgId: OrgId, _id: string, _now: Date, _notBefore: Date): Promise<void> => undefined),
  };
  const tx = {} as Transaction;
  const uow = { transaction: async <T>(work: (t: Transaction) => Promise<T>) => work(tx) };
  const clock: Clock = { now: () => NOW, monotonicMs: () => 0, sleep: async () => undefined };
  const service = new CredentialsService(
    repository as unknown as CredentialRepository,
    sealer,
    uow as unknown as UnitOfWork,
    clock,
    logger as unknown as Logger,
  );
  return { service, repository, sealer, logger, changes, stored };
}

async function failureOf(promise: Promise<unknown>): Promise<DomainError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DomainError);
  return error as DomainError;
}

async function opened(sealer: SecretSealer, sealed: SealedSecret, orgId: string, id: string): Promise<string> {
  return sealer.withPlaintext(sealed, secretContext(orgId, id), (plaintext) => plaintext);
}

describe('CredentialsService.create', () => {
  it('normalizes and de-duplicates origins, stores the hint and a record sealed for (org, id, api_key)', async () => {
    const { service, repository, sealer } = setup();
    const result = await service.create(ORG, {
      name: 'OpenAI',
      apiKey: API_KEY,
      allowedOrigins: [
        'https://API.Example.com',
        'https://api.example.com:443/',
        'https://llm.example.org:8443',
        'https://api.example.com',
      ],
    });
    expect(repository.insert).toHaveBeenCalledTimes(1);
    const [orgId, data] = repository.insert.mock.calls[0]!;
    expect(orgId).toBe(ORG);
    expect(data.id).toMatch(/^cred_[0-9a-z]{26}$/);
    expect(data.name).toBe('OpenAI');
    expect(data.allowedOrigins).toEqual(['https://api.example.com', 'https://llm.example.org:8443']);
    expect(data.apiKeyHint).toBe('****3QeU');
    expect(data.sealed.masterKeyId).toBe('mk-test');
    expect(secretContext(ORG, data.id)).toEqual({ orgId: ORG, ownerId: data.id, field: 'api_key' });
    await expect(opened(sealer, data.sealed, ORG, data.id)).resolves.toBe(API_KEY);
    // Bound to this org and this id: neither another id nor another org opens it.
    await expect(opened(sealer, data.sealed, ORG, 'cred_other')).rejects.toBeInstanceOf(SecretUnavailableError);
    await expect(opened(sealer, data.sealed, OTHER_ORG, data.id)).rejects.toBeInstanceOf(SecretUnavailableError);
    // Nothing but the sealed record carries the key.
    expect(JSON.stringify({ ...data, sealed: undefined })).not.toContain(API_KEY);
    expect(Buffer.from(data.sealed.ciphertext).includes(Buffer.from(API_KEY))).toBe(false);
    expect(result).toEqual(await repository.insert.mock.results[0]!.value);
  });

  it('gives every credential a new id', async () => {
    const { service, repository } = setup();
    await service.create(ORG, { name: 'a', apiKey: API_KEY, allowedOrigins: ORIGINS });
    await service.create(ORG, { name: 'b', apiKey: API_KEY, allowedOrigins: ORIGINS });
    const [first, second] = repository.insert.mock.calls.map(([, data]) => data.id);
    expect(first).not.toBe(second);
  });

  it.each(['****3QeU', '****', '••••abcd', '***x'])('refuses the masked api_key %j without touching the repository', async (apiKey) => {
    const { service, repository } = setup();
    const error = await failureOf(service.create(ORG, { name: 'OpenAI', apiKey, allowedOrigins: ORIGINS }));
    expect(error.code).toBe(ErrorCode.MaskedValueSubmitted);
    expect(error.errors).toEqual([{ path: 'api_key', code: 'masked_value_submitted', message: expect.any(String) }]);
    expect(error.message).not.toContain(apiKey);
    expect(repository.insert).not.toHaveBeenCalled();
  });

  it('refuses a bad origin with the index of the entry', async () => {
    const { service, repository } = setup();
    const error = await failureOf(
      service.create(ORG, { name: 'OpenAI', apiKey: API_KEY, allowedOrigins: ['https://api.example.com', 'http://api.example.com'] }),
    );
    expect(error.code).toBe(ErrorCode.ValidationFailed);
    expect(error.errors).toEqual([{ path: 'allowed_origins[1]', code: 'https_required', message: expect.any(String) }]);
    expect(repository.insert).not.toHaveBeenCalled();
  });

  it('reports every bad origin at once', async () => {
    const { service } = setup();
    const error = await failureOf(
      service.create(ORG, {
        name: 'OpenAI',
        apiKey: API_KEY,
        allowedOrigins: ['https://x.example/v1', 'https://ok.example', 'ftp://x.example'],
      }),
    );
    expect(error.errors?.map((e) => [e.path, e.code])).toEqual([
      ['allowed_origins[0]', 'invalid_origin'],
      ['allowed_origins[2]', 'https_required'],
    ]);
  });
});

describe('CredentialsService.replace', () => {
  it('refuses to add an origin without the api_key again', async () => {
    const { service, changes } = setup();
    const error = await failureOf(service.replace(ORG, CRED_ID, { name: 'OpenAI', allowedOrigins: [...ORIGINS, 'https://evil.example'] }));
    expect(error.code).toBe(ErrorCode.ApiKeyRequired);
    expect(error.errors).toEqual([{ path: 'api_key', code: 'api_key_required', message: expect.any(String) }]);
    expect(error.message).toContain('https://evil.example');
    expect(changes).toEqual([]);
  });

  it('refuses to swap an origin for another without the api_key', async () => {
    const { service } = setup();
    const error = await failureOf(
      service.replace(ORG, CRED_ID, { name: 'OpenAI', allowedOrigins: ['https://api.example.com', 'https://llm.example.org'] }),
    );
    expect(error.code).toBe(ErrorCode.ApiKeyRequired);
  });

  it('keeps the stored key when origins are only removed, renamed or respelled', async () => {
    const { service, repository, changes } = setup();
    const updated = await service.replace(ORG, CRED_ID, { name: 'Renamed', allowedOrigins: ['https://API.example.com:443/'] });
    expect(repository.lockForUpdate).toHaveBeenCalledWith(expect.anything(), ORG, CRED_ID);
    expect(changes).toHaveLength(1);
    expect(changes[0]).toEqual({ name: 'Renamed', allowedOrigins: ['https://api.example.com'] });
    expect('secret' in changes[0]!).toBe(false);
    expect(updated).toEqual(expect.objectContaining({ name: 'Renamed', allowedOrigins: ['https://api.example.com'], updatedAt: NOW }));
  });

  it('allows removing every origin without the key', async () => {
    const { service, changes } = setup();
    await service.replace(ORG, CRED_ID, { name: 'OpenAI', allowedOrigins: [] });
    expect(changes[0]).toEqual({ name: 'OpenAI', allowedOrigins: [] });
  });

  it('with a new api_key, stores a new hint and a record sealed for this credential', async () => {
    const { service, sealer, changes } = setup();
    await service.replace(ORG, CRED_ID, {
      name: 'OpenAI',
      apiKey: NEW_API_KEY,
      allowedOrigins: [...ORIGINS, 'https://new.example'],
    });
    expect(changes).toHaveLength(1);
    const change = changes[0]!;
    expect(change.allowedOrigins).toEqual([...ORIGINS, 'https://new.example']);
    expect(change.secret?.apiKeyHint).toBe('****0001');
    expect(change.secret).toBeDefined();
    await expect(opened(sealer, change.secret!.sealed, ORG, CRED_ID)).resolves.toBe(NEW_API_KEY);
    await expect(opened(sealer, change.secret!.sealed, OTHER_ORG, CRED_ID)).rejects.toBeInstanceOf(SecretUnavailableError);
  });

  it('refuses a masked api_key without touching the repository', async () => {
    const { service, repository } = setup();
    const error = await failureOf(service.replace(ORG, CRED_ID, { name: 'OpenAI', apiKey: '****3QeU', allowedOrigins: ORIGINS }));
    expect(error.code).toBe(ErrorCode.MaskedValueSubmitted);
    expect(error.errors?.[0]?.path).toBe('api_key');
    expect(repository.lockForUpdate).not.toHaveBeenCalled();
  });

  it('refuses a bad origin before touching the repository', async () => {
    const { service, repository } = setup();
    const error = await failureOf(
      service.replace(ORG, CRED_ID, { name: 'OpenAI', allowedOrigins: ['https://a.example', 'https://u@b.example'] }),
    );
    expect(error.code).toBe(ErrorCode.ValidationFailed);
    expect(error.errors).toEqual([{ path: 'allowed_origins[1]', code: 'invalid_origin', message: expect.any(String) }]);
    expect(repository.lockForUpdate).not.toHaveBeenCalled();
  });

  it('reports a missing credential as not found', async () => {
    const { service, repository } = setup();
    repository.lockForUpdate.mockResolvedValueOnce(undefined);
    const error = await failureOf(service.replace(ORG, 'cred_missing', { name: 'OpenAI', allowedOrigins: ORIGINS }));
    expect(error.code).toBe(ErrorCode.NotFound);
    expect(error.message).not.toContain('cred_missing');
  });
});

describe('CredentialsService.delete', () => {
  it('with force, deletes the uses and the credential in one transaction', async () => {
    const { service, repository } = setup();
    await expect(service.delete(ORG, CRED_ID, true)).resolves.toBeUndefined();
    expect(repository.deleteReferences).toHaveBeenCalledWith(expect.anything(), ORG, CRED_ID);
    expect(repository.isReferenced).not.toHaveBeenCalled();
    expect(repository.delete).toHaveBeenCalledWith(expect.anything(), ORG, CRED_ID);
  });

  it('refuses a provider’s key even with force: the provider, and every entry using it, would go too', async () => {
    const { service, repository } = setup();
    repository.isProviderKey.mockResolvedValueOnce(true);
    expect((await failureOf(service.delete(ORG, CRED_ID, true))).code).toBe(ErrorCode.CredentialInUse);
    expect(repository.deleteReferences).not.toHaveBeenCalled();
    expect(repository.delete).not.toHaveBeenCalled();
  });

  it('refuses one in use without force, and one that is not there', async () => {
    const { service, repository } = setup();
    repository.isReferenced.mockResolvedValueOnce(true);
    expect((await failureOf(service.delete(ORG, CRED_ID, false))).code).toBe(ErrorCode.CredentialInUse);
    repository.lockForDelete.mockResolvedValueOnce(false);
    expect((await failureOf(service.delete(ORG, CRED_ID, false))).code).toBe(ErrorCode.NotFound);
    expect(repository.delete).not.toHaveBeenCalled();
  });
});

describe('CredentialsService.get', () => {
  it('returns the credential, or not found', async () => {
    const { service, repository } = setup();
    await expect(failureOf(service.get(ORG, CRED_ID))).resolves.toHaveProperty('code', ErrorCode.NotFound);
    repository.find.mockResolvedValueOnce(credential());
    await expect(service.get(ORG, CRED_ID)).resolves.toEqual(credential());
    expect(repository.find).toHaveBeenLastCalledWith(ORG, CRED_ID);
  });
});

describe('CredentialsService.list', () => {
  it.each(['garbage', '', 'eyJ4IjoxfQ', encodeCursor({ createdAt: NOW, id: 'cred_x' }) + '!'])(
    'refuses the cursor %j without querying',
    async (cursor) => {
      const { service, repository } = setup();
      expect((await failureOf(service.list(ORG, 10, cursor))).code).toBe(ErrorCode.InvalidCursor);
      expect(repository.list).not.toHaveBeenCalled();
    },
  );

  it('passes a valid cursor on as a position', async () => {
    const { service, repository } = setup();
    const position = { createdAt: new Date('2026-11-05T01:02:03.456Z'), id: 'cred_x' };
    await service.list(ORG, 10, encodeCursor(position));
    expect(repository.list).toHaveBeenCalledWith(ORG, { limit: 10, after: position });
  });
});

describe('CredentialsService.withSecret', () => {
  it('refuses a target outside the allowed origins and never opens the secret', async () => {
    const { service, repository } = setup();
    for (const target of [
      'https://evil.example/v1',
      'http://api.example.com/v1',
      'https://api.example.com:8443/v1',
      'https://api.example.com.evil.example/v1',
      'https://api.example.com@evil.example/v1',
      'not a url',
    ]) {
      const use = jest.fn((apiKey: string) => apiKey);
      const error = await failureOf(service.withSecret(ORG, CRED_ID, target, use));
      expect(error.code).toBe(ErrorCode.CredentialOriginNotAllowed);
      expect(error.message).not.toContain(API_KEY);
      expect(use).not.toHaveBeenCalled();
    }
    expect(repository.recordUse).not.toHaveBeenCalled();
  });

  it('hands the plaintext to `use` for an allowed target and returns its result', async () => {
    const { service, repository } = setup();
    const use = jest.fn(async (apiKey: string) => `used ${apiKey.length}`);
    await expect(service.withSecret(ORG, CRED_ID, 'https://api.example.com/v1/chat/completions', use)).resolves.toBe(
      `used ${API_KEY.length}`,
    );
    expect(use).toHaveBeenCalledTimes(1);
    expect(use).toHaveBeenCalledWith(API_KEY);
    expect(repository.findSealed).toHaveBeenCalledWith(ORG, CRED_ID);
  });

  it('accepts a URL object as the target', async () => {
    const { service } = setup();
    await expect(service.withSecret(ORG, CRED_ID, new URL('https://llm.example.org:8443/x'), (k) => k)).resolves.toBe(API_KEY);
  });

  it.each<[string, Date | null]>([
    ['never used', null],
    ['used 60.001 s ago', new Date(NOW.getTime() - 60_001)],
    ['used a day ago', new Date(NOW.getTime() - 86_400_000)],
  ])('records the use when %s', async (_label, lastUsedAt) => {
    const { service, repository } = setup({ lastUsedAt });
    await service.withSecret(ORG, CRED_ID, 'https://api.example.com/v1', (k) => k);
    expect(repository.recordUse).toHaveBeenCalledTimes(1);
    expect(repository.recordUse).toHaveBeenCalledWith(ORG, CRED_ID, NOW, new Date(NOW.getTime() - 60_000));
  });

  it.each<[string, Date]>([
    ['used just now', NOW],
    ['used 59 s ago', new Date(NOW.getTime() - 59_000)],
    ['used exactly 60 s ago', new Date(NOW.getTime() - 60_000)],
  ])('does not record the use when %s', async (_label, lastUsedAt) => {
    const { service, repository } = setup({ lastUsedAt });
    await expect(service.withSecret(ORG, CRED_ID, 'https://api.example.com/v1', (k) => k)).resolves.toBe(API_KEY);
    expect(repository.recordUse).not.toHaveBeenCalled();
  });

  it('records the use only after the plaintext callback has finished, even when it fails', async () => {
    const { service, repository } = setup();
    const order: string[] = [];
    repository.recordUse.mockImplementationOnce(async () => {
      order.push('recordUse');
    });
    await expect(
      service.withSecret(ORG, CRED_ID, 'https://api.example.com/v1', async () => {
        order.push('use started');
        await Promise.resolve();
        order.push('use failed');
        throw new Error('upstream 500');
      }),
    ).rejects.toThrow('upstream 500');
    expect(order).toEqual(['use started', 'use failed', 'recordUse']);
  });

  it('logs a failure to record the use and still completes the call', async () => {
    const { service, repository, logger } = setup();
    repository.recordUse.mockRejectedValueOnce(new Error('connection reset'));
    const use = jest.fn((apiKey: string) => apiKey.slice(0, 3));
    await expect(service.withSecret(ORG, CRED_ID, 'https://api.example.com/v1', use)).resolves.toBe('sk-');
    expect(use).toHaveBeenCalledWith(API_KEY);
    expect(logger.warn).toHaveBeenCalledTimes(1);
    expect(logger.warn).toHaveBeenCalledWith(expect.objectContaining({ credential_id: CRED_ID }), expect.any(String));
    expect(JSON.stringify(logger.warn.mock.calls)).not.toContain(API_KEY);
  });

  it('reports a missing credential as not found without calling `use`', async () => {
    const { service, repository } = setup();
    repository.findSealed.mockResolvedValueOnce(undefined);
    const use = jest.fn((apiKey: string) => apiKey);
    expect((await failureOf(service.withSecret(ORG, 'cred_missing', 'https://api.example.com/v1', use))).code).toBe(ErrorCode.NotFound);
    expect(use).not.toHaveBeenCalled();
    expect(repository.recordUse).not.toHaveBeenCalled();
  });

  it('fails closed, as credential_unavailable, when the stored record belongs to another credential', async () => {
    const { service, repository, stored } = setup();
    repository.findSealed.mockResolvedValueOnce({ ...stored, id: 'cred_other' });
    const use = jest.fn((apiKey: string) => apiKey);
    const error = await failureOf(service.withSecret(ORG, 'cred_other', 'https://api.example.com/v1', use));
    expect(error.code).toBe(ErrorCode.CredentialUnavailable);
    expect(use).not.toHaveBeenCalled();
  });

  describe('with a credential loaded alongside what uses it', () => {
    it('opens it without a query, under the same origin check, and records the use', async () => {
      const { service, repository, stored } = setup();
      const loaded = LoadedCredential.of(stored);
      await expect(service.withSecret(ORG, loaded, 'https://api.example.com/v1', (k) => k)).resolves.toBe(API_KEY);
      expect(repository.findSealed).not.toHaveBeenCalled();
      expect(repository.recordUse).toHaveBeenCalledWith(ORG, CRED_ID, NOW, expect.any(Date));
      const use = jest.fn((apiKey: string) => apiKey);
      expect((await failureOf(service.withSecret(ORG, loaded, 'https://evil.example/v1', use))).code).toBe(
        ErrorCode.CredentialOriginNotAllowed,
      );
      expect(use).not.toHaveBeenCalled();
    });

    it('refuses one loaded for another organization, and shows nothing sealed when serialized', async () => {
      const { service, stored } = setup();
      const loaded = LoadedCredential.of(stored);
      const use = jest.fn((apiKey: string) => apiKey);
      expect((await failureOf(service.withSecret(OTHER_ORG, loaded, 'https://api.example.com/v1', use))).code).toBe(ErrorCode.NotFound);
      expect(use).not.toHaveBeenCalled();
      expect(JSON.stringify(loaded)).toBe(JSON.stringify({ id: CRED_ID }));
    });
  });
});

describe('CredentialsService.withSecrets', () => {
  const HEADER_ID = 'cred_header0000000000000000';
  const HEADER_SECRET = 'gw-token-0123456789';

  /** A second credential of the org, for a secret header, sealed as its own record. */
  function withHeaderCredential(allowedOrigins: readonly string[] = ORIGINS, sealedFor = HEADER_ID) {
    const context = setup();
    const header: SealedCredential = {
      ...context.stored,
      id: HEADER_ID,
      allowedOrigins,
      sealed: context.sealer.seal(HEADER_SECRET, secretContext(ORG, sealedFor)),
    };
    context.repository.findSealed.mockImplementation(async (_orgId, id) => (id === HEADER_ID ? header : undefined));
    return { ...context, loaded: LoadedCredential.of(context.stored) };
  }

  it('hands every secret to one `use`, in the order given, then records each use', async () => {
    const { service, repository, loaded } = withHeaderCredential();
    const use = jest.fn((secrets: readonly string[]) => {
      expect(repository.recordUse).not.toHaveBeenCalled();
      return secrets.join('|');
    });
    await expect(service.withSecrets(ORG, [loaded, HEADER_ID], 'https://api.example.com/v1', use)).resolves.toBe(
      `${API_KEY}|${HEADER_SECRET}`,
    );
    expect(use).toHaveBeenCalledTimes(1);
    expect(repository.findSealed).toHaveBeenCalledWith(ORG, HEADER_ID);
    expect(repository.recordUse.mock.calls.map(([, id]) => id)).toEqual([CRED_ID, HEADER_ID]);
  });

  it('opens none when any one may not go to the target', async () => {
    const { service, sealer, repository, loaded } = withHeaderCredential(['https://other.example']);
    const open = jest.spyOn(sealer, 'withPlaintext');
    const use = jest.fn((secrets: readonly string[]) => secrets);
    const error = await failureOf(service.withSecrets(ORG, [loaded, HEADER_ID], 'https://api.example.com/v1', use));
    expect(error.code).toBe(ErrorCode.CredentialOriginNotAllowed);
    expect(open).not.toHaveBeenCalled();
    expect(use).not.toHaveBeenCalled();
    expect(repository.recordUse).not.toHaveBeenCalled();
  });

  it('fails as credential_unavailable when one does not open, recording only those that did', async () => {
    const { service, repository, loaded } = withHeaderCredential(ORIGINS, 'cred_someone_else');
    const use = jest.fn((secrets: readonly string[]) => secrets);
    const error = await failureOf(service.withSecrets(ORG, [loaded, HEADER_ID], 'https://api.example.com/v1', use));
    expect(error.code).toBe(ErrorCode.CredentialUnavailable);
    expect(use).not.toHaveBeenCalled();
    expect(repository.recordUse.mock.calls.map(([, id]) => id)).toEqual([CRED_ID]);
  });

  it('reports one that is gone as not found', async () => {
    const { service, loaded } = withHeaderCredential();
    const use = jest.fn((secrets: readonly string[]) => secrets);
    expect((await failureOf(service.withSecrets(ORG, [loaded, 'cred_gone'], 'https://api.example.com/v1', use))).code).toBe(
      ErrorCode.NotFound,
    );
    expect(use).not.toHaveBeenCalled();
  });
});

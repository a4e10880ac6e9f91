import { jest } from '@jest/globals';
import type { Clock } from '#agentplane/clock';
import type { Transaction, UnitOfWork } from '#agentplane/db';
import type { Logger } from '#agentplane/logging';
import { CommonErrorCode, DomainError } from '#agentplane/errors';
import { AuthError, AuthErrorCode } from './auth.error.js';
import { ApiKeyCrypto } from './api-key-crypto.js';
import type { ApiKeyRepository } from './api-key.repository.js';
import { ApiKeyService } from './api-key.service.js';
import type { OrganizationRepository } from './organization.repository.js';
import { asOrgId, type OrgId } from './org-id.js';

const NOW = new Date('2026-11-22T10:00:00Z');
const ORG = asOrgId('org_test');

function setup(lastUsedAt: Date | null = null) {
  const crypto = new ApiKeyCrypto();
  const stored = crypto.generate();
  const apiKeys = {
    findActiveByHash: jest.fn(async (hash: Uint8Array) =>
      Buffer.from(hash).equals(Buffer.from(stored.hash)) ? { id: 'key_1', orgId: ORG, hash: stored.hash, lastUsedAt } : undefined,
    ),
    recordUse: jest.fn(async () => undefined),
    create: jest.fn(async () => ({
      id: 'key_new',
      orgId: ORG,
      name: null,
      prefix: 'ap_xxxxxx',
      createdAt: NOW,
      lastUsedAt: null,
      revokedAt: null,
    })),
    revokeById: jest.fn(async (): Promise<unknown> => undefined),
    lockActive: jest.fn(async (): Promise<string[]> => ['key_1', 'key_2']),
    exists: jest.fn(async (_tx: Transaction, _orgId: OrgId, id: string) => ['key_1', 'key_2', 'key_old'].includes(id)),
    revoke: jest.fn(async () => undefined),
  };
  const organizations = {
    findOrCreateByName: jest.fn(async (name: string) => ({ id: ORG, name, createdAt: NOW })),
    findByName: jest.fn(async () => undefined),
  };
  const clock: Clock = { now: () => NOW, monotonicMs: () => 0, sleep: async () => undefined };
  const logger = { warn: jest.fn() };
  const tx = {} as Transaction;
  const uow = { transaction: async <T>(work: (t: Transaction) => Promise<T>) => work(tx), writeEpoch: 0 };
  const service = new ApiKeyService(
    crypto,
    apiKeys as unknown as ApiKeyRepository,
    organizations as unknown as OrganizationRepository,
    clock,
    logger as unknown as Logger,
    uow as unknown as UnitOfWork,
  );
  return { service, apiKeys, organizations, stored, logger };
}

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    return error instanceof DomainError ? error.code : undefined;
  }
}

describe('ApiKeyService.authenticate', () => {
  it('asks the database once for a key used again at once, and records its use once', async () => {
    const { service, apiKeys, stored } = setup();
    for (let i = 0; i < 3; i++) expect(await service.authenticate(`Bearer ${stored.key}`)).toEqual({ orgId: ORG, apiKeyId: 'key_1' });
    expect(apiKeys.findActiveByHash).toHaveBeenCalledTimes(1);
    expect(apiKeys.recordUse).toHaveBeenCalledTimes(1);
  });

  it('forgets the keys it found active when this process revokes one', async () => {
    const { service, apiKeys, stored } = setup();
    await service.authenticate(`Bearer ${stored.key}`);
    apiKeys.revokeById.mockResolvedValueOnce({ id: 'key_1', revokedAt: NOW });
    await service.revoke('key_1');
    apiKeys.findActiveByHash.mockResolvedValueOnce(undefined);
    expect(await codeOf(service.authenticate(`Bearer ${stored.key}`))).toBe(AuthErrorCode.Unauthenticated);
    expect(apiKeys.findActiveByHash).toHaveBeenCalledTimes(2);
  });

  it('returns the caller and records the use', async () => {
    const { service, apiKeys, stored } = setup();
    await expect(service.authenticate(`Bearer ${stored.key}`)).resolves.toEqual({ orgId: ORG, apiKeyId: 'key_1' });
    expect(apiKeys.recordUse).toHaveBeenCalledWith('key_1', NOW, new Date(NOW.getTime() - 60_000));
  });

  it('still authenticates when recording the use fails, and logs it without the key', async () => {
    const { service, apiKeys, stored, logger } = setup();
    apiKeys.recordUse.mockRejectedValueOnce(new Error('connection reset'));
    await expect(service.authenticate(`Bearer ${stored.key}`)).resolves.toEqual({ orgId: ORG, apiKeyId: 'key_1' });
    expect(logger.warn).toHaveBeenCalledTimes(1);
    expect(JSON.stringify(logger.warn.mock.calls)).not.toContain(stored.key);
  });

  it('records use at most once a minute', async () => {
    const recent = setup(new Date(NOW.getTime() - 59_000));
    await recent.service.authenticate(`Bearer ${recent.stored.key}`);
    expect(recent.apiKeys.recordUse).not.toHaveBeenCalled();
    const stale = setup(new Date(NOW.getTime() - 60_001));
    await stale.service.authenticate(`Bearer ${stale.stored.key}`);
    expect(stale.apiKeys.recordUse).toHaveBeenCalledTimes(1);
  });

  it.each([undefined, '', 'Bearer', 'Basic abc', 'Bearer short', 'Bearer  ', `Token ap_${'a'.repeat(43)}`])(
    'refuses %j without a database lookup',
    async (header) => {
      const { service, apiKeys } = setup();
      expect(await codeOf(service.authenticate(header))).toBe(AuthErrorCode.Unauthenticated);
      expect(apiKeys.findActiveByHash).not.toHaveBeenCalled();
    },
  );

  it('refuses an unknown or revoked key with the same error', async () => {
    const { service, apiKeys } = setup();
    const unknown = new ApiKeyCrypto().generate().key;
    const error = await service.authenticate(`Bearer ${unknown}`).catch((e: unknown) => e);
    expect(error).toEqual(AuthError.unauthenticated());
    expect(apiKeys.findActiveByHash).toHaveBeenCalledTimes(1);
    expect(apiKeys.recordUse).not.toHaveBeenCalled();
  });
});

describe('ApiKeyService.issue', () => {
  it('creates the organization if needed and returns the key once', async () => {
    const { service, apiKeys, organizations } = setup();
    const issued = await service.issue('acme', 'ci');
    expect(organizations.findOrCreateByName).toHaveBeenCalledWith('acme');
    expect(issued.apiKey).toMatch(/^ap_/);
    const [, data] = apiKeys.create.mock.calls[0] as unknown as [unknown, { hash: Uint8Array; prefix: string; name: string }];
    expect(data.name).toBe('ci');
    expect(issued.apiKey.startsWith(data.prefix)).toBe(true);
    expect(JSON.stringify(data)).not.toContain(issued.apiKey.slice(9));
  });

  it.each(['', ' acme', 'a/b', 'x'.repeat(101)])('refuses the organization name %j', async (name) => {
    const { service, organizations } = setup();
    expect(await codeOf(service.issue(name))).toBe(CommonErrorCode.ValidationFailed);
    expect(organizations.findOrCreateByName).not.toHaveBeenCalled();
  });
});

describe('ApiKeyService.revoke', () => {
  it('reports a missing key as not found', async () => {
    const { service } = setup();
    expect(await codeOf(service.revoke('key_missing'))).toBe(CommonErrorCode.NotFound);
  });
});

describe('ApiKeyService.revokeFor', () => {
  it("revokes a key of the caller's organization and stops accepting it at once", async () => {
    const { service, apiKeys, stored } = setup();
    await service.authenticate(`Bearer ${stored.key}`);
    await service.revokeFor(ORG, 'key_1');
    expect(apiKeys.revoke).toHaveBeenCalledWith(expect.anything(), ORG, 'key_1', NOW);
    apiKeys.findActiveByHash.mockResolvedValueOnce(undefined);
    expect(await codeOf(service.authenticate(`Bearer ${stored.key}`))).toBe(AuthErrorCode.Unauthenticated);
  });

  it('refuses the last active key, changes nothing for a revoked one, and reports another org’s as not found', async () => {
    const { service, apiKeys } = setup();
    apiKeys.lockActive.mockResolvedValueOnce(['key_1']);
    expect(await codeOf(service.revokeFor(ORG, 'key_1'))).toBe(AuthErrorCode.LastActiveApiKey);
    await service.revokeFor(ORG, 'key_old');
    expect(await codeOf(service.revokeFor(ORG, 'key_elsewhere'))).toBe(CommonErrorCode.NotFound);
    expect(apiKeys.revoke).not.toHaveBeenCalled();
  });
});

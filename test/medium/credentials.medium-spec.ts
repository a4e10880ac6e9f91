import type { INestApplicationContext } from '@nestjs/common';
import { jest } from '@jest/globals';
import pg from 'pg';
import { ApiKeyService, type OrgId } from '#agentplane/auth';
import { CredentialsErrorCode, CredentialsService } from '#agentplane/credentials';
import { PrismaService } from '#agentplane/db';
import { CommonErrorCode, DomainError } from '#agentplane/errors';
import { KeyRotationService } from '#agentplane/keys';
import { createServiceContext } from '../support/nest-context.js';
import { createTestStorage, usingPostgres, type TestStorage } from '../support/storage.js';

const KEY_1 = 'k1:' + Buffer.alloc(32, 1).toString('base64');
const KEY_2 = 'k2:' + Buffer.alloc(32, 2).toString('base64');
const ORIGIN = 'https://api.example.com';

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof DomainError) return error.code;
    throw error;
  }
  throw new Error('expected a DomainError');
}

describe('credentials against a real database', () => {
  let storage: TestStorage;
  let ctx: INestApplicationContext | undefined;

  beforeEach(async () => {
    storage = await createTestStorage();
  });

  afterEach(async () => {
    await ctx?.close();
    ctx = undefined;
    await storage.dispose();
  });

  async function open(masterKeys: string): Promise<{ service: CredentialsService; orgA: OrgId; orgB: OrgId }> {
    ctx = await createServiceContext(storage, { AGENTPLANE_MASTER_KEYS: masterKeys });
    const apiKeys = ctx.get(ApiKeyService);
    const orgA = (await apiKeys.issue('org-a')).orgId;
    const orgB = (await apiKeys.issue('org-b')).orgId;
    return { service: ctx.get(CredentialsService), orgA, orgB };
  }

  it('refuses to delete a referenced credential unless forced, and then removes its uses in the same transaction', async () => {
    const { service, orgA, orgB } = await open(KEY_1);
    const prisma = ctx!.get(PrismaService);
    // Stands in for a later feature's table (an agent's llm entries) that points at credentials.
    await prisma.$executeRawUnsafe(
      'CREATE TABLE test_credential_uses (id SERIAL PRIMARY KEY, credential_id TEXT NOT NULL REFERENCES credentials(id))',
    );
    const used = await service.create(orgA, { name: 'used', apiKey: 'sk-used-0123456789abcdef', allowedOrigins: [ORIGIN] });
    const unused = await service.create(orgA, { name: 'unused', apiKey: 'sk-unused-0123456789abcd', allowedOrigins: [ORIGIN] });
    await prisma.$executeRawUnsafe('INSERT INTO test_credential_uses (credential_id) VALUES ($1), ($1)', used.id);

    expect(await codeOf(service.delete(orgA, used.id, false))).toBe(CredentialsErrorCode.CredentialInUse);
    expect((await service.get(orgA, used.id)).id).toBe(used.id);
    // Another organization cannot delete it, forced or not.
    expect(await codeOf(service.delete(orgB, used.id, true))).toBe(CommonErrorCode.NotFound);

    await service.delete(orgA, unused.id, false);
    await service.delete(orgA, used.id, true);
    expect(await codeOf(service.get(orgA, used.id))).toBe(CommonErrorCode.NotFound);
    const left = await prisma.$queryRawUnsafe<{ n: number }[]>('SELECT count(*)::int AS n FROM test_credential_uses');
    expect(left[0]!.n).toBe(0);
  });

  it('opens a secret only for an allowed origin, and records the use', async () => {
    const { service, orgA, orgB } = await open(KEY_1);
    const created = await service.create(orgA, { name: 'c', apiKey: 'sk-live-abcdefghijklmnopqrstuvwxyz', allowedOrigins: [ORIGIN] });
    const use = jest.fn((key: string) => key.length);

    expect(await codeOf(service.withSecret(orgA, created.id, 'https://evil.example.com/v1', use))).toBe(
      CredentialsErrorCode.CredentialOriginNotAllowed,
    );
    expect(await codeOf(service.withSecret(orgB, created.id, `${ORIGIN}/v1`, use))).toBe(CommonErrorCode.NotFound);
    expect(use).not.toHaveBeenCalled();

    expect(await service.withSecret(orgA, created.id, `${ORIGIN}/v1/chat/completions`, use)).toBe(34);
    expect(use).toHaveBeenCalledWith('sk-live-abcdefghijklmnopqrstuvwxyz');
    expect((await service.get(orgA, created.id)).lastUsedAt).toBeInstanceOf(Date);
  });

  (usingPostgres ? it : it.skip)('rewrap skips rows another transaction holds, and a second run finishes them', async () => {
    const { service, orgA } = await open(KEY_1);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push((await service.create(orgA, { name: `c${i}`, apiKey: `sk-${i}-0123456789abcdefghij`, allowedOrigins: [ORIGIN] })).id);
    }
    await ctx!.close();
    ctx = await createServiceContext(storage, { AGENTPLANE_MASTER_KEYS: `${KEY_2},${KEY_1}` });
    const rotation = ctx.get(KeyRotationService);

    const holder = new pg.Client({ connectionString: storage.url });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT id FROM credentials WHERE id = $1 FOR UPDATE', [ids[2]]);
      expect(await rotation.rewrap(2)).toEqual({ rewrapped: 4, failed: 0, remaining: 1 });
      await holder.query('COMMIT');
    } finally {
      await holder.end();
    }
    expect(await rotation.rewrap(2)).toEqual({ rewrapped: 1, failed: 0, remaining: 0 });
    expect((await rotation.verify(2)).failed).toEqual([]);
  });
});

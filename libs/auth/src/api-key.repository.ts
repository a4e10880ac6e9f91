import { Injectable } from '@nestjs/common';
import { newId, PrismaService } from '#agentplane/db';
import { asOrgId, type OrgId } from './org-id.js';
import type { ApiKeySummary } from './organization.js';

export interface ActiveApiKey {
  readonly id: string;
  readonly orgId: OrgId;
  readonly hash: Uint8Array;
  readonly lastUsedAt: Date | null;
}

const SUMMARY = {
  id: true,
  orgId: true,
  name: true,
  prefix: true,
  createdAt: true,
  lastUsedAt: true,
  revokedAt: true,
} as const;

@Injectable()
export class ApiKeyRepository {
  constructor(private readonly prisma: PrismaService) {}

  async create(orgId: OrgId, data: { name: string | null; prefix: string; hash: Uint8Array<ArrayBuffer> }): Promise<ApiKeySummary> {
    const row = await this.prisma.apiKey.create({
      data: { id: newId('key'), orgId, name: data.name, prefix: data.prefix, hash: data.hash },
      select: SUMMARY,
    });
    return { ...row, orgId: asOrgId(row.orgId) };
  }

  async list(orgId: OrgId): Promise<ApiKeySummary[]> {
    const rows = await this.prisma.apiKey.findMany({
      where: { orgId },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
      select: SUMMARY,
    });
    return rows.map((row) => ({ ...row, orgId: asOrgId(row.orgId) }));
  }

  /**
   * The authentication lookup, the one query that runs before a tenant is known. Unknown and
   * revoked keys take the same path and give the same answer.
   */
  async findActiveByHash(hash: Uint8Array<ArrayBuffer>): Promise<ActiveApiKey | undefined> {
    const row = await this.prisma.apiKey.findFirst({
      where: { hash, revokedAt: null },
      select: { id: true, orgId: true, hash: true, lastUsedAt: true },
    });
    return row === null ? undefined : { ...row, orgId: asOrgId(row.orgId) };
  }

  /** Sets last_used_at unless another request already did so after `notBefore`. */
  async recordUse(id: string, now: Date, notBefore: Date): Promise<void> {
    await this.prisma.apiKey.updateMany({
      where: { id, OR: [{ lastUsedAt: null }, { lastUsedAt: { lt: notBefore } }] },
      data: { lastUsedAt: now },
    });
  }

  /**
   * Operator action (CLI), addressed by the key's globally unique id. Returns the key as it is
   * now, or undefined when no such key exists. Revoking twice keeps the first revocation time.
   */
  async revokeById(id: string, now: Date): Promise<ApiKeySummary | undefined> {
    return this.prisma.$transaction(async (tx) => {
      await tx.apiKey.updateMany({ where: { id, revokedAt: null }, data: { revokedAt: now } });
      const row = await tx.apiKey.findUnique({ where: { id }, select: SUMMARY });
      return row === null ? undefined : { ...row, orgId: asOrgId(row.orgId) };
    });
  }
}

import { Injectable } from '@nestjs/common';
import { keysetQuery, newId, type Page, type PageRequest, PrismaService, toPage, type Transaction } from '#agentplane/db';
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

  /** A page of the organization's keys, revoked ones included, newest first. */
  async listPage(orgId: OrgId, page: PageRequest): Promise<Page<ApiKeySummary>> {
    const query = keysetQuery(page);
    const rows = await this.prisma.apiKey.findMany({
      where: { orgId, ...query.where },
      orderBy: query.orderBy,
      take: query.take,
      select: SUMMARY,
    });
    return toPage(rows, page, (row) => ({ ...row, orgId: asOrgId(row.orgId) }));
  }

  /** The ids of the organization's active keys, row-locked until `tx` ends: revocations of its keys queue here. */
  async lockActive(tx: Transaction, orgId: OrgId): Promise<string[]> {
    const rows = await tx.$queryRaw<{ id: string }[]>`
      SELECT id FROM api_keys WHERE org_id = ${orgId} AND revoked_at IS NULL ORDER BY id FOR UPDATE`;
    return rows.map((row) => row.id);
  }

  async exists(tx: Transaction, orgId: OrgId, id: string): Promise<boolean> {
    return (await tx.apiKey.findFirst({ where: { id, orgId }, select: { id: true } })) !== null;
  }

  async revoke(tx: Transaction, orgId: OrgId, id: string, now: Date): Promise<void> {
    await tx.apiKey.updateMany({ where: { id, orgId, revokedAt: null }, data: { revokedAt: now } });
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

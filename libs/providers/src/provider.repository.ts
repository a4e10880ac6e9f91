import { Injectable } from '@nestjs/common';
import { asOrgId, type OrgId } from '#agentplane/auth';
import { keysetQuery, type Page, type PageRequest, Prisma, PrismaService, toPage, type Transaction } from '#agentplane/db';
import {
  type AuthScheme,
  azureFromColumn,
  endpointColumns,
  extraBodyFromColumn,
  headersFromColumn,
  type LlmApi,
  type StoredEndpoint,
} from '#agentplane/endpoints';
import type { Provider } from './provider.js';

const PROVIDER = {
  id: true,
  orgId: true,
  name: true,
  api: true,
  baseUrl: true,
  azure: true,
  auth: true,
  credentialId: true,
  extraBody: true,
  headers: true,
  modelMap: true,
  version: true,
  createdAt: true,
  updatedAt: true,
  credential: { select: { apiKeyHint: true, ownerProviderId: true } },
} as const satisfies Prisma.ProviderSelect;

type ProviderRow = Prisma.ProviderGetPayload<{ select: typeof PROVIDER }>;

/** A provider's own fields and its endpoint, as a write stores them. */
export interface ProviderFields extends StoredEndpoint {
  readonly name: string;
  readonly modelMap: Readonly<Record<string, string>>;
}

/** Providers. Writes take the caller's transaction. */
@Injectable()
export class ProviderRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** Inserts the provider row without its key and secret headers (they are owned by it, so stored after). */
  async insert(
    tx: Transaction,
    orgId: OrgId,
    id: string,
    fields: Pick<ProviderFields, 'name' | 'modelMap' | 'baseUrl' | 'api' | 'auth'>,
    now: Date,
  ) {
    await tx.provider.create({
      data: {
        id,
        orgId,
        name: fields.name,
        modelMap: { ...fields.modelMap },
        baseUrl: fields.baseUrl,
        api: fields.api,
        // A placeholder until update() writes the endpoint: `none` needs no credential yet.
        auth: 'none',
        createdAt: now,
        updatedAt: now,
      },
    });
  }

  /** Writes every field and moves the provider to `version` (the next one, on an update). */
  async update(tx: Transaction, orgId: OrgId, id: string, fields: ProviderFields, now: Date, bump: boolean): Promise<void> {
    await tx.provider.update({
      where: { id, orgId },
      data: {
        name: fields.name,
        modelMap: { ...fields.modelMap },
        ...endpointColumns(fields),
        ...(bump ? { version: { increment: 1 } } : {}),
        updatedAt: now,
      },
    });
  }

  /** The provider, row-locked until `tx` ends: concurrent writers of the same provider queue here. */
  async lockForUpdate(tx: Transaction, orgId: OrgId, id: string): Promise<Provider | undefined> {
    const locked = await tx.$queryRaw<{ id: string }[]>`
      SELECT id FROM providers WHERE id = ${id} AND org_id = ${orgId} FOR UPDATE`;
    if (locked.length === 0) return undefined;
    return this.read(tx, orgId, id);
  }

  async read(tx: Transaction, orgId: OrgId, id: string): Promise<Provider> {
    return toProvider(await tx.provider.findFirstOrThrow({ where: { id, orgId }, select: PROVIDER }));
  }

  async find(orgId: OrgId, id: string): Promise<Provider | undefined> {
    const row = await this.prisma.provider.findFirst({ where: { id, orgId }, select: PROVIDER });
    return row === null ? undefined : toProvider(row);
  }

  async list(orgId: OrgId, page: PageRequest): Promise<Page<Provider>> {
    const query = keysetQuery(page);
    const rows = await this.prisma.provider.findMany({
      where: { orgId, ...query.where },
      orderBy: query.orderBy,
      take: query.take,
      select: PROVIDER,
    });
    return toPage(rows, page, toProvider);
  }

  /**
   * Which of `ids` are providers of the organization, share-locked until `tx` ends: none can be
   * deleted while an agent starts (or keeps) using it.
   */
  async lockForReference(tx: Transaction, orgId: OrgId, ids: readonly string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const rows = await tx.$queryRaw<{ id: string }[]>`
      SELECT id FROM providers
       WHERE org_id = ${orgId} AND id = ANY(${[...ids]}::text[])
       ORDER BY id
         FOR SHARE`;
    return new Set(rows.map((r) => r.id));
  }

  /** The agents whose llm entries use the provider. */
  async usedBy(tx: Transaction, orgId: OrgId, id: string): Promise<string[]> {
    const rows = await tx.agentLlmEntry.findMany({
      where: { providerId: id, agent: { orgId } },
      select: { agentId: true },
      distinct: ['agentId'],
      orderBy: { agentId: 'asc' },
    });
    return rows.map((r) => r.agentId);
  }

  /**
   * Removes the llm entries that use the provider from `agentIds`, which move to their next
   * version: what a read of them shows changes.
   */
  async deleteUses(tx: Transaction, orgId: OrgId, id: string, agentIds: readonly string[], now: Date): Promise<void> {
    if (agentIds.length === 0) return;
    // In id order. Agents' writers take the providers they use (share locks) before their own row,
    // and the caller holds this provider's row already: the same order, so no deadlock.
    await tx.$queryRaw`SELECT id FROM agents WHERE org_id = ${orgId} AND id = ANY(${[...agentIds]}::text[]) ORDER BY id FOR UPDATE`;
    await tx.agentLlmEntry.deleteMany({ where: { providerId: id, agent: { orgId } } });
    await tx.agent.updateMany({ where: { orgId, id: { in: [...agentIds] } }, data: { version: { increment: 1 }, updatedAt: now } });
  }

  /** Deletes the provider; the keys it owns go with it (foreign-key cascade). */
  async delete(tx: Transaction, orgId: OrgId, id: string): Promise<void> {
    await tx.provider.delete({ where: { id, orgId } });
  }
}

function toProvider(row: ProviderRow): Provider {
  return {
    id: row.id,
    orgId: asOrgId(row.orgId),
    name: row.name,
    api: row.api as LlmApi,
    baseUrl: row.baseUrl,
    ...azureFromColumn(row.azure),
    auth: row.auth as AuthScheme,
    credentialId: row.credentialId,
    apiKeyHint: row.credential?.apiKeyHint ?? null,
    ownedKey: row.credential !== null && row.credential.ownerProviderId !== null,
    ...extraBodyFromColumn(row.extraBody),
    headers: headersFromColumn(row.headers),
    modelMap: row.modelMap as Record<string, string>,
    version: row.version,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

import { Injectable } from '@nestjs/common';
import type { OrgId } from '#agentplane/auth';
import { keysetQuery, type Page, type PageRequest, PrismaService, toPage, type Transaction } from '#agentplane/db';
import type { RewrapBatch, SealedRecord, SealedRecordStore, SealedSecret } from '#agentplane/keys';
import { type Credential, CREDENTIAL_SECRET_FIELD, type SealedCredential } from './credential.js';
import { CREDENTIAL_SEALED, CREDENTIAL_VIEW, sealedColumns, sealedOf, toCredential, toSealedCredential } from './credential-row.js';

export interface NewCredential {
  readonly id: string;
  readonly name: string;
  readonly apiKeyHint: string;
  readonly allowedOrigins: readonly string[];
  readonly sealed: SealedSecret;
  /** Set for a key given inline (in an agent's llm entry, or a provider): what owns it. */
  readonly owner?: KeyOwner;
}

/**
 * What owns a key given inline: it is deleted with its owner, never listed among the organization's
 * credentials and never referenced by anything else.
 */
export type KeyOwner = { readonly agentId: string } | { readonly providerId: string };

function ownerColumns(owner: KeyOwner): { ownerAgentId: string | null; ownerProviderId: string | null } {
  return 'agentId' in owner
    ? { ownerAgentId: owner.agentId, ownerProviderId: null }
    : { ownerAgentId: null, ownerProviderId: owner.providerId };
}

// Organization credentials are those nothing owns.
const UNOWNED = { ownerAgentId: null, ownerProviderId: null } as const;

/** What an update writes; `secret` is absent when the stored one is kept. */
export interface CredentialChanges {
  readonly name: string;
  readonly allowedOrigins: readonly string[];
  readonly secret?: { readonly apiKeyHint: string; readonly sealed: SealedSecret };
}

/** What an agent needs to know about a credential it refers to. */
export interface CredentialReference {
  readonly id: string;
  readonly allowedOrigins: readonly string[];
  readonly apiKeyHint: string;
  /** Set when an agent or a provider owns the key; such a credential is never shared. */
  readonly owned: boolean;
}

// The referenced credential ($1) is the organization's ($2): referencing tables need no org column.
const OF_ORG = 'EXISTS (SELECT 1 FROM credentials c WHERE c.id = $1 AND c.org_id = $2)';

interface ReferenceColumn {
  readonly table_name: string;
  readonly column_name: string;
}

/**
 * Credentials rows. The org-facing reads see only the organization's own credentials; keys an
 * agent owns are managed through that agent. Methods that lock take the caller's transaction.
 * Also the store key management rotates: every credential holds one sealed secret.
 */
@Injectable()
export class CredentialRepository implements SealedRecordStore {
  readonly name = 'credentials';

  constructor(private readonly prisma: PrismaService) {}

  /** Inserts a credential (org-level, or owned by an agent or a provider when `owner` is set). */
  async insert(orgId: OrgId, data: NewCredential, db: Transaction = this.prisma): Promise<Credential> {
    const row = await db.credential.create({
      data: {
        id: data.id,
        orgId,
        ...(data.owner === undefined ? UNOWNED : ownerColumns(data.owner)),
        name: data.name,
        apiKeyHint: data.apiKeyHint,
        allowedOrigins: [...data.allowedOrigins],
        ...sealedColumns(data.sealed),
      },
      select: CREDENTIAL_VIEW,
    });
    return toCredential(row);
  }

  async list(orgId: OrgId, page: PageRequest): Promise<Page<Credential>> {
    const query = keysetQuery(page);
    const rows = await this.prisma.credential.findMany({
      where: { orgId, ...UNOWNED, ...query.where },
      orderBy: query.orderBy,
      take: query.take,
      select: CREDENTIAL_VIEW,
    });
    return toPage(rows, page, toCredential);
  }

  async find(orgId: OrgId, id: string): Promise<Credential | undefined> {
    const row = await this.prisma.credential.findFirst({ where: { id, orgId, ...UNOWNED }, select: CREDENTIAL_VIEW });
    return row === null ? undefined : toCredential(row);
  }

  /** Any credential of the org, those agents and providers own included (the runtime opens those too). */
  async findSealed(orgId: OrgId, id: string): Promise<SealedCredential | undefined> {
    const row = await this.prisma.credential.findFirst({ where: { id, orgId }, select: CREDENTIAL_SEALED });
    return row === null ? undefined : toSealedCredential(row);
  }

  /** An org credential, row-locked until `tx` ends, so a check on its current state cannot race an update. */
  async lockForUpdate(tx: Transaction, orgId: OrgId, id: string): Promise<Credential | undefined> {
    const locked = await tx.$queryRaw<{ id: string }[]>`
      SELECT id FROM credentials
       WHERE id = ${id} AND org_id = ${orgId} AND owner_agent_id IS NULL AND owner_provider_id IS NULL
         FOR NO KEY UPDATE`;
    if (locked.length === 0) return undefined;
    return toCredential(await tx.credential.findUniqueOrThrow({ where: { id }, select: CREDENTIAL_VIEW }));
  }

  async update(tx: Transaction, orgId: OrgId, id: string, changes: CredentialChanges, now: Date): Promise<Credential> {
    const row = await tx.credential.update({
      where: { id, orgId },
      data: {
        name: changes.name,
        allowedOrigins: [...changes.allowedOrigins],
        updatedAt: now,
        ...(changes.secret === undefined ? {} : { apiKeyHint: changes.secret.apiKeyHint, ...sealedColumns(changes.secret.sealed) }),
      },
      select: CREDENTIAL_VIEW,
    });
    return toCredential(row);
  }

  /**
   * Locks an org credential for deletion. The row lock also waits out, and then blocks, anyone
   * inserting a reference to it. False when there is no such credential.
   */
  async lockForDelete(tx: Transaction, orgId: OrgId, id: string): Promise<boolean> {
    const locked = await tx.$queryRaw<{ id: string }[]>`
      SELECT id FROM credentials
       WHERE id = ${id} AND org_id = ${orgId} AND owner_agent_id IS NULL AND owner_provider_id IS NULL
         FOR UPDATE`;
    return locked.length > 0;
  }

  /**
   * Whether any row references the credential. References are found through the foreign keys
   * that point at `credentials`, so a feature that adds one is covered without this method
   * knowing about it.
   */
  async isReferenced(tx: Transaction, orgId: OrgId, id: string): Promise<boolean> {
    for (const ref of await referenceColumns(tx)) {
      // Identifiers come from the catalog, quoted by Postgres itself; the ids are parameters.
      const found = await tx.$queryRawUnsafe<unknown[]>(
        `SELECT 1 FROM ${ref.table_name} WHERE ${ref.column_name} = $1 AND ${OF_ORG} LIMIT 1`,
        id,
        orgId,
      );
      if (found.length > 0) return true;
    }
    return false;
  }

  /**
   * Whether a provider uses the credential as its key. A forced delete does not take a provider
   * with it (every agent using the provider would lose an entry), so this is asked first.
   */
  async isProviderKey(tx: Transaction, orgId: OrgId, id: string): Promise<boolean> {
    const found = await tx.$queryRaw<unknown[]>`
      SELECT 1 FROM providers WHERE credential_id = ${id} AND org_id = ${orgId} LIMIT 1`;
    return found.length > 0;
  }

  /** Deletes every row that references the credential (found as in `isReferenced`). */
  async deleteReferences(tx: Transaction, orgId: OrgId, id: string): Promise<void> {
    for (const ref of await referenceColumns(tx)) {
      await tx.$executeRawUnsafe(`DELETE FROM ${ref.table_name} WHERE ${ref.column_name} = $1 AND ${OF_ORG}`, id, orgId);
    }
  }

  async delete(tx: Transaction, orgId: OrgId, id: string): Promise<void> {
    await tx.credential.delete({ where: { id, orgId } });
  }

  /**
   * The org's credentials among `ids`, share-locked until `tx` ends, so none can be re-pointed at
   * other origins or deleted while an agent starts (or keeps) referring to it.
   */
  async lockForReference(tx: Transaction, orgId: OrgId, ids: readonly string[]): Promise<Map<string, CredentialReference>> {
    if (ids.length === 0) return new Map();
    const rows = await tx.$queryRaw<{ id: string; allowed_origins: string[]; api_key_hint: string; owned: boolean }[]>`
      SELECT id, allowed_origins, api_key_hint, (owner_agent_id IS NOT NULL OR owner_provider_id IS NOT NULL) AS owned FROM credentials
       WHERE org_id = ${orgId} AND id = ANY(${[...ids]}::text[])
       ORDER BY id
         FOR SHARE`;
    return new Map(rows.map((r) => [r.id, { id: r.id, allowedOrigins: r.allowed_origins, apiKeyHint: r.api_key_hint, owned: r.owned }]));
  }

  /** Deletes the keys `owner` owns that are not in `keep`. */
  async deleteOwnedExcept(tx: Transaction, orgId: OrgId, owner: KeyOwner, keep: readonly string[]): Promise<void> {
    const where = 'agentId' in owner ? { ownerAgentId: owner.agentId } : { ownerProviderId: owner.providerId };
    await tx.credential.deleteMany({ where: { orgId, ...where, id: { notIn: [...keep] } } });
  }

  /** Sets last_used_at unless another call already did so after `notBefore`. */
  async recordUse(orgId: OrgId, id: string, now: Date, notBefore: Date): Promise<void> {
    await this.prisma.credential.updateMany({
      where: { id, orgId, OR: [{ lastUsedAt: null }, { lastUsedAt: { lt: notBefore } }] },
      data: { lastUsedAt: now },
    });
  }

  // --- SealedRecordStore: operator work (CLI `keys …`), across every organization on purpose. ---

  async countByMasterKey(): Promise<Map<string, number>> {
    const groups = await this.prisma.credential.groupBy({ by: ['masterKeyId'], _count: { _all: true } });
    return new Map(groups.map((g) => [g.masterKeyId, g._count._all]));
  }

  async rewrapBatch(
    tx: Transaction,
    activeKeyId: string,
    afterId: string,
    limit: number,
    rewrap: (record: SealedRecord) => SealedSecret | undefined,
  ): Promise<RewrapBatch> {
    const rows = await tx.$queryRaw<RawSealedRow[]>`
      SELECT id, org_id, secret_format, master_key_id, wrapped_key, nonce, ciphertext
        FROM credentials
       WHERE master_key_id <> ${activeKeyId} AND id > ${afterId}
       ORDER BY id
       LIMIT ${limit}
         FOR NO KEY UPDATE SKIP LOCKED`;
    let rewrapped = 0;
    for (const row of rows) {
      const next = rewrap(fromRaw(row));
      if (next === undefined) continue;
      await tx.credential.update({
        where: { id: row.id },
        data: { secretFormat: next.formatVersion, masterKeyId: next.masterKeyId, wrappedKey: next.wrappedKey },
      });
      rewrapped++;
    }
    return { seen: rows.map((r) => r.id), rewrapped };
  }

  async scan(afterId: string, limit: number): Promise<SealedRecord[]> {
    const rows = await this.prisma.credential.findMany({
      where: { id: { gt: afterId } },
      orderBy: { id: 'asc' },
      take: limit,
      select: { id: true, orgId: true, secretFormat: true, masterKeyId: true, wrappedKey: true, nonce: true, ciphertext: true },
    });
    return rows.map((row) => ({ id: row.id, context: credentialSecretContext(row.orgId, row.id), sealed: sealedOf(row) }));
  }
}

/** Where a credential's secret belongs: bound into its associated data. */
export function credentialSecretContext(orgId: string, credentialId: string) {
  return { orgId, ownerId: credentialId, field: CREDENTIAL_SECRET_FIELD };
}

interface RawSealedRow {
  id: string;
  org_id: string;
  secret_format: number;
  master_key_id: string;
  wrapped_key: Uint8Array;
  nonce: Uint8Array;
  ciphertext: Uint8Array;
}

function fromRaw(row: RawSealedRow): SealedRecord {
  return {
    id: row.id,
    context: credentialSecretContext(row.org_id, row.id),
    sealed: {
      formatVersion: Number(row.secret_format),
      masterKeyId: row.master_key_id,
      wrappedKey: new Uint8Array(row.wrapped_key),
      nonce: new Uint8Array(row.nonce),
      ciphertext: new Uint8Array(row.ciphertext),
    },
  };
}

async function referenceColumns(tx: Transaction): Promise<ReferenceColumn[]> {
  const rows = await tx.$queryRaw<(ReferenceColumn & { constraint_name: string; columns: number })[]>`
    SELECT c.conname AS constraint_name, c.conrelid::regclass::text AS table_name,
           quote_ident(a.attname) AS column_name, cardinality(c.conkey)::int AS columns
      FROM pg_constraint c
      JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
     WHERE c.contype = 'f' AND c.confrelid = 'credentials'::regclass
     ORDER BY 2, 3`;
  // Every reference to a credential is by its id alone. A multi-column key would be checked on
  // its first column only, so refuse loudly rather than miss references.
  const composite = rows.find((row) => Number(row.columns) !== 1);
  if (composite !== undefined) {
    throw new Error(
      `Foreign key ${composite.constraint_name} on ${composite.table_name} references credentials with several columns; only single-column references are understood`,
    );
  }
  return rows.map(({ table_name, column_name }) => ({ table_name, column_name }));
}

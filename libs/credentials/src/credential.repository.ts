import { Injectable } from '@nestjs/common';
import { asOrgId, type OrgId } from '@agentplane/auth';
import { type KeysetPosition, Prisma, PrismaService } from '@agentplane/db';
import { type Credential, LoadedCredential, type SealedCredential } from './credential.js';
import type { SealedSecret } from './secret-context.js';

const VIEW = {
  id: true,
  orgId: true,
  name: true,
  apiKeyHint: true,
  allowedOrigins: true,
  createdAt: true,
  updatedAt: true,
  lastUsedAt: true,
} as const;

const SEALED = {
  ...VIEW,
  secretFormat: true,
  masterKeyId: true,
  wrappedKey: true,
  nonce: true,
  ciphertext: true,
} as const;

type ViewRow = Prisma.CredentialGetPayload<{ select: typeof VIEW }>;
type SealedRow = Prisma.CredentialGetPayload<{ select: typeof SEALED }>;

export interface NewCredential {
  readonly id: string;
  readonly name: string;
  readonly apiKeyHint: string;
  readonly allowedOrigins: readonly string[];
  readonly sealed: SealedSecret;
}

/** What a replacement writes; `secret` is absent when the stored one is kept. */
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
  /** Set when an agent owns the key; such a credential is never shared. */
  readonly ownerAgentId: string | null;
}

export type DeleteOutcome = 'deleted' | 'not_found' | 'in_use';

/** A sealed data key as `keys rewrap`/`keys verify` see it, across every organization. */
export interface SealedRecordRef {
  readonly id: string;
  readonly orgId: string;
  readonly sealed: SealedSecret;
}

interface ReferenceColumn {
  readonly table_name: string;
  readonly column_name: string;
}

/**
 * Credentials rows. The org-facing reads and writes (list, find, replace, delete) see only the
 * organization's own credentials; keys an agent owns are managed through that agent.
 */
@Injectable()
export class CredentialRepository {
  /**
   * What another repository selects on a credential relation to hand its row to `loaded` (the
   * agents repository, reading an agent for a reply in one query).
   */
  static readonly SEALED_SELECT = SEALED;

  static loaded(row: SealedRow): LoadedCredential {
    return LoadedCredential.of(toSealedCredential(row));
  }

  constructor(private readonly prisma: PrismaService) {}

  async create(orgId: OrgId, data: NewCredential): Promise<Credential> {
    const row = await this.prisma.credential.create({
      data: {
        id: data.id,
        orgId,
        name: data.name,
        apiKeyHint: data.apiKeyHint,
        allowedOrigins: [...data.allowedOrigins],
        ...sealedColumns(data.sealed),
      },
      select: VIEW,
    });
    return toCredential(row);
  }

  /** Newest first; one extra row tells whether another page exists. */
  async list(orgId: OrgId, limit: number, after?: KeysetPosition): Promise<{ rows: Credential[]; hasMore: boolean }> {
    const rows = await this.prisma.credential.findMany({
      where: {
        orgId,
        ownerAgentId: null,
        ...(after === undefined
          ? {}
          : { OR: [{ createdAt: { lt: after.createdAt } }, { createdAt: after.createdAt, id: { lt: after.id } }] }),
      },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: limit + 1,
      select: VIEW,
    });
    return { rows: rows.slice(0, limit).map(toCredential), hasMore: rows.length > limit };
  }

  async find(orgId: OrgId, id: string): Promise<Credential | undefined> {
    const row = await this.prisma.credential.findFirst({ where: { id, orgId, ownerAgentId: null }, select: VIEW });
    return row === null ? undefined : toCredential(row);
  }

  /** Any credential of the org, agent-owned ones included (the runtime opens those too). */
  async findSealed(orgId: OrgId, id: string): Promise<SealedCredential | undefined> {
    const row = await this.prisma.credential.findFirst({ where: { id, orgId }, select: SEALED });
    return row === null ? undefined : toSealedCredential(row);
  }

  /**
   * Replaces a credential under a row lock: `decide` sees the current state and returns the
   * changes (or throws, which leaves the row untouched), so a check such as "new origins need a
   * new key" cannot race a concurrent update. Undefined when there is no such credential.
   */
  async replace(
    orgId: OrgId,
    id: string,
    now: Date,
    decide: (current: Credential) => CredentialChanges,
  ): Promise<Credential | undefined> {
    return this.prisma.$transaction(async (tx) => {
      const locked = await tx.$queryRaw<{ id: string }[]>`
        SELECT id FROM credentials
         WHERE id = ${id} AND org_id = ${orgId} AND owner_agent_id IS NULL
           FOR NO KEY UPDATE`;
      if (locked.length === 0) return undefined;
      const current = await tx.credential.findUniqueOrThrow({ where: { id }, select: VIEW });
      const changes = decide(toCredential(current));
      const row = await tx.credential.update({
        where: { id },
        data: {
          name: changes.name,
          allowedOrigins: [...changes.allowedOrigins],
          updatedAt: now,
          ...(changes.secret === undefined
            ? {}
            : { apiKeyHint: changes.secret.apiKeyHint, ...sealedColumns(changes.secret.sealed) }),
        },
        select: VIEW,
      });
      return toCredential(row);
    });
  }

  /**
   * Deletes a credential unless another row references it. With `force`, the referencing rows go
   * in the same transaction. References are found through the foreign keys that point at
   * `credentials`, so a feature that adds one (an agent's llm entry) is covered without this
   * method knowing about it.
   */
  async delete(orgId: OrgId, id: string, force: boolean): Promise<DeleteOutcome> {
    return this.prisma.$transaction(async (tx) => {
      // The row lock also waits out, and then blocks, anyone inserting a reference to it.
      const locked = await tx.$queryRaw<{ id: string }[]>`
        SELECT id FROM credentials
         WHERE id = ${id} AND org_id = ${orgId} AND owner_agent_id IS NULL
           FOR UPDATE`;
      if (locked.length === 0) return 'not_found';
      for (const ref of await referenceColumns(tx)) {
        // Identifiers come from the catalog, quoted by Postgres itself; the id is a parameter.
        if (force) {
          await tx.$executeRawUnsafe(`DELETE FROM ${ref.table_name} WHERE ${ref.column_name} = $1`, id);
        } else {
          const found = await tx.$queryRawUnsafe<unknown[]>(
            `SELECT 1 FROM ${ref.table_name} WHERE ${ref.column_name} = $1 LIMIT 1`,
            id,
          );
          if (found.length > 0) return 'in_use';
        }
      }
      await tx.credential.delete({ where: { id } });
      return 'deleted';
    });
  }

  // --- For the agents lib, inside its own transactions (an agent and its keys change together). ---

  /** Stores a key given inline in an agent's llm entry, owned by that agent. */
  async insertOwned(tx: Prisma.TransactionClient, orgId: OrgId, ownerAgentId: string, data: NewCredential): Promise<Credential> {
    const row = await tx.credential.create({
      data: {
        id: data.id,
        orgId,
        ownerAgentId,
        name: data.name,
        apiKeyHint: data.apiKeyHint,
        allowedOrigins: [...data.allowedOrigins],
        ...sealedColumns(data.sealed),
      },
      select: VIEW,
    });
    return toCredential(row);
  }

  /**
   * The org's credentials among `ids`, share-locked until the transaction ends, so none can be
   * re-pointed at other origins or deleted while an agent starts (or keeps) referring to it.
   */
  async lockForReference(tx: Prisma.TransactionClient, orgId: OrgId, ids: readonly string[]): Promise<Map<string, CredentialReference>> {
    if (ids.length === 0) return new Map();
    const rows = await tx.$queryRaw<{ id: string; allowed_origins: string[]; api_key_hint: string; owner_agent_id: string | null }[]>`
      SELECT id, allowed_origins, api_key_hint, owner_agent_id FROM credentials
       WHERE org_id = ${orgId} AND id = ANY(${[...ids]}::text[])
       ORDER BY id
         FOR SHARE`;
    return new Map(
      rows.map((r) => [r.id, { id: r.id, allowedOrigins: r.allowed_origins, apiKeyHint: r.api_key_hint, ownerAgentId: r.owner_agent_id }]),
    );
  }

  /** Deletes the keys `ownerAgentId` owns that are not in `keep`. */
  async deleteOwnedExcept(tx: Prisma.TransactionClient, orgId: OrgId, ownerAgentId: string, keep: readonly string[]): Promise<void> {
    await tx.credential.deleteMany({ where: { orgId, ownerAgentId, id: { notIn: [...keep] } } });
  }

  /** Sets last_used_at unless another call already did so after `notBefore`. */
  async recordUse(orgId: OrgId, id: string, now: Date, notBefore: Date): Promise<void> {
    await this.prisma.credential.updateMany({
      where: { id, orgId, OR: [{ lastUsedAt: null }, { lastUsedAt: { lt: notBefore } }] },
      data: { lastUsedAt: now },
    });
  }

  // --- Operator actions (CLI `keys …`): they span every organization on purpose. ---

  /** How many records each master key protects. */
  async countByMasterKey(): Promise<Map<string, number>> {
    const groups = await this.prisma.credential.groupBy({ by: ['masterKeyId'], _count: { _all: true } });
    return new Map(groups.map((g) => [g.masterKeyId, g._count._all]));
  }

  /**
   * One batch of a rewrap: locks up to `limit` records (after `afterId`, in id order) that are not
   * on `activeKeyId`, skipping rows another rewrap or a request holds, and stores what `rewrap`
   * returns for each (undefined: leave the row as it is). Only the wrapped data key and its key id
   * change. Returns the ids it looked at, so the caller can continue after the last one.
   */
  async rewrapBatch(
    activeKeyId: string,
    afterId: string,
    limit: number,
    rewrap: (record: SealedRecordRef) => SealedSecret | undefined,
  ): Promise<{ seen: string[]; rewrapped: number }> {
    return this.prisma.$transaction(
      async (tx) => {
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
      },
      // A batch of a thousand updates on a slow disk outlasts Prisma's 5 s default.
      { maxWait: 10_000, timeout: 120_000 },
    );
  }

  /** Every sealed record in id order, a page at a time (for `keys verify`). */
  async scanSealed(afterId: string, limit: number): Promise<SealedRecordRef[]> {
    const rows = await this.prisma.credential.findMany({
      where: { id: { gt: afterId } },
      orderBy: { id: 'asc' },
      take: limit,
      select: { id: true, orgId: true, secretFormat: true, masterKeyId: true, wrappedKey: true, nonce: true, ciphertext: true },
    });
    return rows.map((row) => ({
      id: row.id,
      orgId: row.orgId,
      sealed: {
        formatVersion: row.secretFormat,
        masterKeyId: row.masterKeyId,
        wrappedKey: row.wrappedKey,
        nonce: row.nonce,
        ciphertext: row.ciphertext,
      },
    }));
  }
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

function fromRaw(row: RawSealedRow): SealedRecordRef {
  return {
    id: row.id,
    orgId: row.org_id,
    sealed: {
      formatVersion: Number(row.secret_format),
      masterKeyId: row.master_key_id,
      wrappedKey: new Uint8Array(row.wrapped_key),
      nonce: new Uint8Array(row.nonce),
      ciphertext: new Uint8Array(row.ciphertext),
    },
  };
}

async function referenceColumns(tx: Prisma.TransactionClient): Promise<ReferenceColumn[]> {
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
    throw new Error(`Foreign key ${composite.constraint_name} on ${composite.table_name} references credentials with several columns; delete() only understands single-column references`);
  }
  return rows.map(({ table_name, column_name }) => ({ table_name, column_name }));
}

function sealedColumns(sealed: SealedSecret) {
  return {
    secretFormat: sealed.formatVersion,
    masterKeyId: sealed.masterKeyId,
    wrappedKey: sealed.wrappedKey,
    nonce: sealed.nonce,
    ciphertext: sealed.ciphertext,
  };
}

function toCredential(row: ViewRow): Credential {
  return {
    id: row.id,
    orgId: asOrgId(row.orgId),
    name: row.name,
    apiKeyHint: row.apiKeyHint,
    allowedOrigins: row.allowedOrigins,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    lastUsedAt: row.lastUsedAt,
  };
}

function toSealedCredential(row: SealedRow): SealedCredential {
  return {
    ...toCredential(row),
    sealed: {
      formatVersion: row.secretFormat,
      masterKeyId: row.masterKeyId,
      wrappedKey: row.wrappedKey,
      nonce: row.nonce,
      ciphertext: row.ciphertext,
    },
  };
}

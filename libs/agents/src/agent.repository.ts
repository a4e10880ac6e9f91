import { Injectable } from '@nestjs/common';
import { asOrgId, type OrgId } from '@agentplane/auth';
import { CredentialRepository, type CredentialReference, type Fingerprint, type NewCredential } from '@agentplane/credentials';
import { type KeysetPosition, Prisma, PrismaService } from '@agentplane/db';
import { type Agent, LLM_TIMEOUT_FIELDS, type LlmApi, type LlmEntry, type LlmTimeouts, type RunnableAgent } from './agent.js';

const AGENT = {
  id: true,
  orgId: true,
  name: true,
  instructions: true,
  temperature: true,
  maxTokens: true,
  metadata: true,
  version: true,
  createdAt: true,
  updatedAt: true,
  llm: {
    orderBy: { position: 'asc' },
    select: {
      baseUrl: true,
      model: true,
      api: true,
      credentialId: true,
      timeouts: true,
      credential: { select: { apiKeyHint: true, ownerAgentId: true } },
    },
  },
} as const satisfies Prisma.AgentSelect;

type AgentRow = Prisma.AgentGetPayload<{ select: typeof AGENT }>;

const RUNNABLE = {
  ...AGENT,
  llm: {
    ...AGENT.llm,
    select: { ...AGENT.llm.select, credential: { select: { ...CredentialRepository.SEALED_SELECT, ownerAgentId: true } } },
  },
} as const satisfies Prisma.AgentSelect;

/** Where an entry's key comes from: sealed just now (the agent will own it) or a stored credential. */
export type PlannedKey =
  | { readonly kind: 'new'; readonly credential: NewCredential }
  | { readonly kind: 'existing'; readonly credentialId: string };

export interface PlannedEntry {
  readonly baseUrl: string;
  readonly model: string;
  readonly api: LlmApi;
  readonly key: PlannedKey;
  readonly timeouts?: LlmTimeouts;
}

/** An agent's whole state as a write stores it. */
export interface AgentPlan {
  readonly name: string;
  readonly instructions: string | null;
  readonly temperature: number | null;
  readonly maxTokens: number | null;
  readonly metadata: Readonly<Record<string, string>>;
  readonly llm: readonly PlannedEntry[];
}

export type CredentialRefs = ReadonlyMap<string, CredentialReference>;

export interface IdempotencyClaim {
  readonly key: string;
  readonly fingerprint: Fingerprint;
}

export type CreateOutcome =
  | { readonly kind: 'created'; readonly agent: Agent }
  /** The key was used before (within 24 h): what that request stored, for the caller to compare. */
  | { readonly kind: 'replay'; readonly fingerprint: Fingerprint; readonly agent: Agent };

const IDEMPOTENCY_TTL = '24 hours';
// A request may queue behind others for the same agent or Idempotency-Key (that is the point of
// the locks), so allow more than Prisma's 2 s / 5 s defaults before calling it a failure.
const TX_OPTIONS = { maxWait: 10_000, timeout: 30_000 };

@Injectable()
export class AgentRepository {
  constructor(
    private readonly prisma: PrismaService,
    private readonly credentials: CredentialRepository,
  ) {}

  /**
   * Stores a new agent, its inline keys and its entries in one transaction. `verify` sees the
   * referenced credentials share-locked (so their origins cannot change underneath) and may throw,
   * which stores nothing. With a claim, the Idempotency-Key is taken in the same transaction: a
   * concurrent request with the same key waits for this one and then gets a replay.
   */
  async create(
    orgId: OrgId,
    id: string,
    plan: AgentPlan,
    verify: (refs: CredentialRefs) => void,
    claim?: IdempotencyClaim,
  ): Promise<CreateOutcome> {
    return this.prisma.$transaction(async (tx) => {
      if (claim !== undefined) {
        const previous = await claimIdempotencyKey(tx, orgId, claim);
        if (previous !== undefined) return { kind: 'replay', ...previous };
      }
      verify(await this.credentials.lockForReference(tx, orgId, referencedIds(plan)));
      await tx.agent.create({
        data: {
          id,
          orgId,
          name: plan.name,
          instructions: plan.instructions,
          temperature: plan.temperature,
          maxTokens: plan.maxTokens,
          metadata: { ...plan.metadata },
        },
      });
      await this.writeEntries(tx, orgId, id, plan);
      const agent = toAgent(await tx.agent.findUniqueOrThrow({ where: { id }, select: AGENT }));
      if (claim !== undefined) {
        await tx.idempotencyKey.update({
          where: { orgId_key: { orgId, key: claim.key } },
          data: { statusCode: 201, resourceId: id, response: toSnapshot(agent) },
        });
      }
      return { kind: 'created', agent };
    }, TX_OPTIONS);
  }

  /** Newest first; one extra row tells whether another page exists. */
  async list(orgId: OrgId, limit: number, after?: KeysetPosition): Promise<{ rows: Agent[]; hasMore: boolean }> {
    const rows = await this.prisma.agent.findMany({
      where: {
        orgId,
        ...(after === undefined
          ? {}
          : { OR: [{ createdAt: { lt: after.createdAt } }, { createdAt: after.createdAt, id: { lt: after.id } }] }),
      },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: limit + 1,
      select: AGENT,
    });
    return { rows: rows.slice(0, limit).map(toAgent), hasMore: rows.length > limit };
  }

  async find(orgId: OrgId, id: string): Promise<Agent | undefined> {
    const row = await this.prisma.agent.findFirst({ where: { id, orgId }, select: AGENT });
    return row === null ? undefined : toAgent(row);
  }

  /** The agent with its entries' sealed credentials, in one query (relationJoins): for a reply. */
  async findRunnable(orgId: OrgId, id: string): Promise<RunnableAgent | undefined> {
    const row = await this.prisma.agent.findFirst({ where: { id, orgId }, select: RUNNABLE });
    if (row === null) return undefined;
    const agent = toAgent(row);
    return { ...agent, llm: agent.llm.map((entry, i) => ({ ...entry, credential: CredentialRepository.loaded(row.llm[i]!.credential) })) };
  }

  /**
   * Replaces an agent under a row lock, in one transaction. `decide` sees the current agent and
   * the share-locked credentials it or the request refers to (`requested`), and returns the new
   * state or throws (If-Match, origin rules), which changes nothing. Keys the agent owned and no
   * longer uses are deleted with the old entries. Undefined when there is no such agent.
   */
  async replace(
    orgId: OrgId,
    id: string,
    requested: readonly string[],
    now: Date,
    decide: (current: Agent, refs: CredentialRefs) => AgentPlan,
  ): Promise<Agent | undefined> {
    return this.prisma.$transaction(async (tx) => {
      const locked = await tx.$queryRaw<{ id: string }[]>`
        SELECT id FROM agents WHERE id = ${id} AND org_id = ${orgId} FOR UPDATE`;
      if (locked.length === 0) return undefined;
      const current = toAgent(await tx.agent.findUniqueOrThrow({ where: { id }, select: AGENT }));
      const ids = [...new Set([...current.llm.map((e) => e.credentialId), ...requested])];
      const plan = decide(current, await this.credentials.lockForReference(tx, orgId, ids));
      await tx.agentLlmEntry.deleteMany({ where: { agentId: id } });
      await this.credentials.deleteOwnedExcept(tx, orgId, id, referencedIds(plan));
      await tx.agent.update({
        where: { id },
        data: {
          name: plan.name,
          instructions: plan.instructions,
          temperature: plan.temperature,
          maxTokens: plan.maxTokens,
          metadata: { ...plan.metadata },
          version: { increment: 1 },
          updatedAt: now,
        },
      });
      await this.writeEntries(tx, orgId, id, plan);
      return toAgent(await tx.agent.findUniqueOrThrow({ where: { id }, select: AGENT }));
    }, TX_OPTIONS);
  }

  /** Deletes the agent; its entries and the keys it owns go with it (foreign-key cascades). */
  async delete(orgId: OrgId, id: string): Promise<boolean> {
    const { count } = await this.prisma.agent.deleteMany({ where: { id, orgId } });
    return count > 0;
  }

  private async writeEntries(tx: Prisma.TransactionClient, orgId: OrgId, agentId: string, plan: AgentPlan): Promise<void> {
    const rows: Prisma.AgentLlmEntryCreateManyInput[] = [];
    for (const [position, entry] of plan.llm.entries()) {
      let credentialId: string;
      if (entry.key.kind === 'new') {
        credentialId = (await this.credentials.insertOwned(tx, orgId, agentId, entry.key.credential)).id;
      } else {
        credentialId = entry.key.credentialId;
      }
      rows.push({
        agentId,
        position,
        baseUrl: entry.baseUrl,
        model: entry.model,
        api: entry.api,
        credentialId,
        timeouts: entry.timeouts === undefined ? Prisma.DbNull : { ...entry.timeouts },
      });
    }
    if (rows.length > 0) await tx.agentLlmEntry.createMany({ data: rows });
  }
}

function referencedIds(plan: AgentPlan): string[] {
  return plan.llm.flatMap((e) => (e.key.kind === 'existing' ? [e.key.credentialId] : []));
}

/**
 * Takes `claim.key` for this transaction, or returns what the request that took it stored.
 * Expired keys (over 24 h) of the org are cleared first. If another transaction holds an
 * uncommitted claim on the same key, Postgres makes the insert wait for it to end.
 */
async function claimIdempotencyKey(
  tx: Prisma.TransactionClient,
  orgId: OrgId,
  claim: IdempotencyClaim,
): Promise<{ fingerprint: Fingerprint; agent: Agent } | undefined> {
  await tx.$executeRaw`
    DELETE FROM idempotency_keys WHERE org_id = ${orgId} AND created_at < now() - ${IDEMPOTENCY_TTL}::interval`;
  const claimed = await tx.$queryRaw<{ key: string }[]>`
    INSERT INTO idempotency_keys (org_id, key, fingerprint, fingerprint_key_id, status_code, resource_id, response)
    VALUES (${orgId}, ${claim.key}, ${claim.fingerprint.digest}, ${claim.fingerprint.keyId}, 0, '', '{}'::jsonb)
    ON CONFLICT (org_id, key) DO NOTHING
    RETURNING key`;
  if (claimed.length > 0) return undefined;
  const row = await tx.idempotencyKey.findUniqueOrThrow({ where: { orgId_key: { orgId, key: claim.key } } });
  return {
    fingerprint: { keyId: row.fingerprintKeyId, digest: new Uint8Array(row.fingerprint) },
    agent: fromSnapshot(row.response),
  };
}

function toAgent(row: AgentRow): Agent {
  return {
    id: row.id,
    orgId: asOrgId(row.orgId),
    name: row.name,
    instructions: row.instructions,
    temperature: row.temperature,
    maxTokens: row.maxTokens,
    metadata: row.metadata as Record<string, string>,
    llm: row.llm.map(
      (e): LlmEntry => ({
        baseUrl: e.baseUrl,
        model: e.model,
        api: e.api as LlmApi,
        credentialId: e.credentialId,
        apiKeyHint: e.credential.apiKeyHint,
        ownedKey: e.credential.ownerAgentId !== null,
        ...toTimeouts(e.timeouts),
      }),
    ),
    version: row.version,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

function toTimeouts(value: Prisma.JsonValue): { timeouts?: LlmTimeouts } {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return {};
  const timeouts = Object.fromEntries(LLM_TIMEOUT_FIELDS.flatMap((f) => (typeof value[f] === 'number' ? [[f, value[f]]] : [])));
  // An entry saved with `timeouts: {}` reads like one saved without: nothing overridden.
  return Object.keys(timeouts).length === 0 ? {} : { timeouts };
}

// The agent as the first response showed it, replayed verbatim for a repeated Idempotency-Key.
function toSnapshot(agent: Agent): Prisma.InputJsonObject {
  return JSON.parse(JSON.stringify(agent)) as Prisma.InputJsonObject;
}

function fromSnapshot(value: Prisma.JsonValue): Agent {
  const raw = value as unknown as Agent & { createdAt: string; updatedAt: string };
  return { ...raw, createdAt: new Date(raw.createdAt), updatedAt: new Date(raw.updatedAt) };
}

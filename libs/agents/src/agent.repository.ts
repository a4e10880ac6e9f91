import { Injectable } from '@nestjs/common';
import { asOrgId, type OrgId } from '#agentplane/auth';
import { CREDENTIAL_SEALED, loadedCredential } from '#agentplane/credentials';
import { keysetQuery, type Page, type PageRequest, Prisma, PrismaService, toPage, type Transaction } from '#agentplane/db';
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
    select: { ...AGENT.llm.select, credential: { select: { ...CREDENTIAL_SEALED, ownerAgentId: true } } },
  },
} as const satisfies Prisma.AgentSelect;

/** The agent's own fields, as a write stores them. */
export interface AgentFields {
  readonly name: string;
  readonly instructions: string | null;
  readonly temperature: number | null;
  readonly maxTokens: number | null;
  readonly metadata: Readonly<Record<string, string>>;
}

/** An llm entry as stored: its key is always a credential. */
export interface StoredEntry {
  readonly baseUrl: string;
  readonly model: string;
  readonly api: LlmApi;
  readonly credentialId: string;
  readonly timeouts?: LlmTimeouts;
}

/** Agents and their llm entries. Writes take the caller's transaction. */
@Injectable()
export class AgentRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** Inserts the agent row (entries come after: its owned keys need the row first). */
  async insert(tx: Transaction, orgId: OrgId, id: string, fields: AgentFields, now: Date): Promise<void> {
    await tx.agent.create({ data: { id, orgId, ...columns(fields), createdAt: now, updatedAt: now } });
  }

  /** Updates the agent row and moves it to the next version. */
  async update(tx: Transaction, orgId: OrgId, id: string, fields: AgentFields, now: Date): Promise<void> {
    await tx.agent.update({ where: { id, orgId }, data: { ...columns(fields), version: { increment: 1 }, updatedAt: now } });
  }

  /** Replaces every llm entry of the agent, in order (position = fallback order). */
  async replaceEntries(tx: Transaction, orgId: OrgId, agentId: string, entries: readonly StoredEntry[]): Promise<void> {
    await tx.agentLlmEntry.deleteMany({ where: { agentId, agent: { orgId } } });
    if (entries.length === 0) return;
    await tx.agentLlmEntry.createMany({
      data: entries.map((entry, position) => ({
        agentId,
        position,
        baseUrl: entry.baseUrl,
        model: entry.model,
        api: entry.api,
        credentialId: entry.credentialId,
        timeouts: entry.timeouts === undefined ? Prisma.DbNull : { ...entry.timeouts },
      })),
    });
  }

  /** The agent, row-locked until `tx` ends: concurrent writers of the same agent queue here. */
  async lockForUpdate(tx: Transaction, orgId: OrgId, id: string): Promise<Agent | undefined> {
    const locked = await tx.$queryRaw<{ id: string }[]>`
      SELECT id FROM agents WHERE id = ${id} AND org_id = ${orgId} FOR UPDATE`;
    if (locked.length === 0) return undefined;
    return this.read(tx, orgId, id);
  }

  /** The agent as stored now, inside `tx` (after a write). */
  async read(tx: Transaction, orgId: OrgId, id: string): Promise<Agent> {
    return toAgent(await tx.agent.findFirstOrThrow({ where: { id, orgId }, select: AGENT }));
  }

  async list(orgId: OrgId, page: PageRequest): Promise<Page<Agent>> {
    const query = keysetQuery(page);
    const rows = await this.prisma.agent.findMany({
      where: { orgId, ...query.where },
      orderBy: query.orderBy,
      take: query.take,
      select: AGENT,
    });
    return toPage(rows, page, toAgent);
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
    return { ...agent, llm: agent.llm.map((entry, i) => ({ ...entry, credential: loadedCredential(row.llm[i]!.credential) })) };
  }

  /** Deletes the agent; its entries and the keys it owns go with it (foreign-key cascades). */
  async delete(tx: Transaction, orgId: OrgId, id: string): Promise<void> {
    await tx.agent.delete({ where: { id, orgId } });
  }
}

function columns(fields: AgentFields) {
  return {
    name: fields.name,
    instructions: fields.instructions,
    temperature: fields.temperature,
    maxTokens: fields.maxTokens,
    metadata: { ...fields.metadata },
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
    llm: row.llm.map((e): LlmEntry => ({
      baseUrl: e.baseUrl,
      model: e.model,
      api: e.api as LlmApi,
      credentialId: e.credentialId,
      apiKeyHint: e.credential.apiKeyHint,
      ownedKey: e.credential.ownerAgentId !== null,
      ...toTimeouts(e.timeouts),
    })),
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

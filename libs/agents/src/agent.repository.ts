import { Injectable } from '@nestjs/common';
import { asOrgId, type OrgId } from '#agentplane/auth';
import { CREDENTIAL_SEALED, loadedCredential } from '#agentplane/credentials';
import { keysetQuery, type Page, type PageRequest, Prisma, PrismaService, toPage, type Transaction } from '#agentplane/db';
import { type Agent, type LlmEntry, type RunnableAgent, type RunnableHeader, type SystemTools, type ToolDefinition } from './agent.js';
import {
  type AuthScheme,
  type AzureSettings,
  type JsonObject,
  LLM_TIMEOUT_FIELDS,
  type LlmApi,
  type LlmHeader,
  type LlmTimeouts,
} from '#agentplane/endpoints';
import { systemToolsFromWire, systemToolsToWire, type SystemToolsWire } from './system-tools-wire.js';

const AGENT = {
  id: true,
  orgId: true,
  name: true,
  instructions: true,
  temperature: true,
  maxTokens: true,
  metadata: true,
  tools: true,
  systemTools: true,
  forwardMetadata: true,
  variables: true,
  version: true,
  createdAt: true,
  updatedAt: true,
  llm: {
    orderBy: { position: 'asc' },
    select: {
      baseUrl: true,
      model: true,
      api: true,
      azure: true,
      auth: true,
      credentialId: true,
      timeouts: true,
      extraBody: true,
      headers: true,
      credential: { select: { apiKeyHint: true, ownerAgentId: true } },
    },
  },
} as const satisfies Prisma.AgentSelect;

type AgentRow = Prisma.AgentGetPayload<{ select: typeof AGENT }>;

// Secret header values are credentials the agent owns: read with it, all in the same query.
const RUNNABLE = {
  ...AGENT,
  llm: {
    ...AGENT.llm,
    select: { ...AGENT.llm.select, credential: { select: { ...CREDENTIAL_SEALED, ownerAgentId: true } } },
  },
  ownedCredentials: { select: CREDENTIAL_SEALED },
} as const satisfies Prisma.AgentSelect;

/** The agent's own fields, as a write stores them. */
export interface AgentFields {
  readonly name: string;
  readonly instructions: string | null;
  readonly temperature: number | null;
  readonly maxTokens: number | null;
  readonly metadata: Readonly<Record<string, string>>;
  readonly tools: readonly ToolDefinition[];
  readonly systemTools: SystemTools;
  readonly forwardMetadata: boolean;
  readonly variables: Readonly<Record<string, string>>;
}

/** An llm entry as stored: its key, when it has one, is always a credential. */
export interface StoredEntry {
  readonly baseUrl: string;
  readonly model: string;
  readonly api: LlmApi;
  readonly azure?: AzureSettings;
  readonly auth: AuthScheme;
  readonly credentialId: string | null;
  readonly timeouts?: LlmTimeouts;
  readonly extraBody?: JsonObject;
  readonly headers: readonly LlmHeader[];
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
        azure: entry.azure === undefined ? Prisma.DbNull : azureColumn(entry.azure),
        auth: entry.auth,
        credentialId: entry.credentialId,
        timeouts: entry.timeouts === undefined ? Prisma.DbNull : { ...entry.timeouts },
        extraBody: entry.extraBody === undefined ? null : JSON.stringify(entry.extraBody),
        headers: entry.headers.map(headerColumn),
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
    const owned = new Map(row.ownedCredentials.map((c) => [c.id, c]));
    const runnableHeader = (header: LlmHeader): RunnableHeader => {
      if ('value' in header) return header;
      const credential = owned.get(header.credentialId);
      // A foreign key cannot point into a JSON column; the agent's writes keep the two in step.
      if (credential === undefined) throw new Error(`agent ${id}: header ${header.name} has no stored value`);
      return { name: header.name, credentialId: header.credentialId, credential: loadedCredential(credential) };
    };
    return {
      ...agent,
      llm: agent.llm.map((entry, i) => {
        const sealed = row.llm[i]!.credential;
        return { ...entry, credential: sealed === null ? null : loadedCredential(sealed), headers: entry.headers.map(runnableHeader) };
      }),
    };
  }

  /** Which of `ids` are agents of the organization. */
  async existingIds(tx: Transaction, orgId: OrgId, ids: readonly string[]): Promise<Set<string>> {
    const rows = await tx.agent.findMany({ where: { orgId, id: { in: [...ids] } }, select: { id: true } });
    return new Set(rows.map((r) => r.id));
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
    tools: fields.tools.map((t) => ({ ...t })) as Prisma.InputJsonArray,
    systemTools: systemToolsToWire(fields.systemTools) as Prisma.InputJsonObject,
    forwardMetadata: fields.forwardMetadata,
    variables: { ...fields.variables },
  };
}

function azureColumn(azure: AzureSettings): Prisma.InputJsonObject {
  return {
    ...(azure.resource === undefined ? {} : { resource: azure.resource }),
    ...(azure.apiVersion === undefined ? {} : { api_version: azure.apiVersion }),
    ...(azure.deployment === undefined ? {} : { deployment: azure.deployment }),
  };
}

function toAzure(value: Prisma.JsonValue): AzureSettings {
  const column = value as { resource?: string; api_version?: string; deployment?: string };
  return {
    ...(column.resource === undefined ? {} : { resource: column.resource }),
    ...(column.api_version === undefined ? {} : { apiVersion: column.api_version }),
    ...(column.deployment === undefined ? {} : { deployment: column.deployment }),
  };
}

function headerColumn(header: LlmHeader): Prisma.InputJsonObject {
  return 'value' in header
    ? { name: header.name, value: header.value }
    : { name: header.name, credential_id: header.credentialId, value_hint: header.valueHint };
}

function toHeaders(value: Prisma.JsonValue): LlmHeader[] {
  return (value as { name: string; value?: string; credential_id?: string; value_hint?: string }[]).map((h) =>
    h.value !== undefined ? { name: h.name, value: h.value } : { name: h.name, credentialId: h.credential_id!, valueHint: h.value_hint! },
  );
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
    tools: row.tools as unknown as ToolDefinition[],
    systemTools: systemToolsFromWire(row.systemTools as SystemToolsWire),
    forwardMetadata: row.forwardMetadata,
    variables: row.variables as Record<string, string>,
    llm: row.llm.map((e): LlmEntry => ({
      baseUrl: e.baseUrl,
      model: e.model,
      api: e.api as LlmApi,
      ...(e.azure === null ? {} : { azure: toAzure(e.azure) }),
      auth: e.auth as AuthScheme,
      credentialId: e.credentialId,
      apiKeyHint: e.credential?.apiKeyHint ?? null,
      ownedKey: e.credential !== null && e.credential.ownerAgentId !== null,
      ...toTimeouts(e.timeouts),
      ...(e.extraBody === null ? {} : { extraBody: JSON.parse(e.extraBody) as JsonObject }),
      headers: toHeaders(e.headers),
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

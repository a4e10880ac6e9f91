import { Injectable } from '@nestjs/common';
import { asOrgId, type OrgId } from '#agentplane/auth';
import { CREDENTIAL_SEALED, loadedCredential, type SealedCredentialRow } from '#agentplane/credentials';
import { keysetQuery, type Page, type PageRequest, Prisma, PrismaService, toPage, type Transaction } from '#agentplane/db';
import {
  type AuthScheme,
  azureFromColumn,
  endpointColumns,
  extraBodyFromColumn,
  headersFromColumn,
  LLM_TIMEOUT_FIELDS,
  type LlmApi,
  type LlmHeader,
  type LlmTimeouts,
  type StoredEndpoint,
} from '#agentplane/endpoints';
import { mappedModel } from '#agentplane/providers';
import {
  type Agent,
  type LlmEntry,
  type RunnableAgent,
  type RunnableHeader,
  type RunnableLlmEntry,
  type SystemTools,
  type ToolDefinition,
  usesProvider,
} from './agent.js';
import { systemToolsFromWire, systemToolsToWire, type SystemToolsWire } from './system-tools-wire.js';

// The columns an llm entry and a provider share: where the endpoint is and how it is called.
const ENDPOINT = {
  baseUrl: true,
  api: true,
  azure: true,
  auth: true,
  credentialId: true,
  extraBody: true,
  headers: true,
} as const;

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
      ...ENDPOINT,
      providerId: true,
      model: true,
      timeouts: true,
      credential: { select: { apiKeyHint: true, ownerAgentId: true } },
    },
  },
} as const satisfies Prisma.AgentSelect;

type AgentRow = Prisma.AgentGetPayload<{ select: typeof AGENT }>;

// A reply reads everything in one query: the entries' keys and the agent's secret header values,
// sealed, and for entries that use a provider, the provider's endpoint, model map and secrets.
const RUNNABLE = {
  ...AGENT,
  llm: {
    ...AGENT.llm,
    select: {
      ...AGENT.llm.select,
      credential: { select: { ...CREDENTIAL_SEALED, ownerAgentId: true } },
      provider: {
        select: {
          ...ENDPOINT,
          modelMap: true,
          credential: { select: { ...CREDENTIAL_SEALED, ownerProviderId: true } },
          ownedCredentials: { select: CREDENTIAL_SEALED },
        },
      },
    },
  },
  ownedCredentials: { select: CREDENTIAL_SEALED },
} as const satisfies Prisma.AgentSelect;

type RunnableRow = Prisma.AgentGetPayload<{ select: typeof RUNNABLE }>;

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

/** An llm entry as stored: its own endpoint (its key, when it has one, always a credential), or a provider's. */
export type StoredEntry =
  | (StoredEndpoint & { readonly model: string; readonly timeouts?: LlmTimeouts })
  | { readonly providerId: string; readonly model: string; readonly timeouts?: LlmTimeouts };

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
    await this.insertEntries(tx, agentId, entries);
  }

  /** The entries of an agent that has none yet (one just inserted in `tx`). */
  async insertEntries(tx: Transaction, agentId: string, entries: readonly StoredEntry[]): Promise<void> {
    if (entries.length === 0) return;
    await tx.agentLlmEntry.createMany({
      data: entries.map((entry, position) => ({
        agentId,
        position,
        model: entry.model,
        timeouts: entry.timeouts === undefined ? Prisma.DbNull : { ...entry.timeouts },
        ...('providerId' in entry ? { providerId: entry.providerId } : endpointColumns(entry)),
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

  /** The agent with its entries resolved and their sealed credentials, in one query (relationJoins): for a reply. */
  async findRunnable(orgId: OrgId, id: string): Promise<RunnableAgent | undefined> {
    const row = await this.prisma.agent.findFirst({ where: { id, orgId }, select: RUNNABLE });
    return row === null ? undefined : toRunnable(row);
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

type EndpointRow = Prisma.AgentLlmEntryGetPayload<{ select: typeof ENDPOINT }>;

/** The endpoint columns of an entry or a provider row, which hold one. */
function toStoredEndpoint(row: EndpointRow): StoredEndpoint {
  return {
    baseUrl: row.baseUrl!,
    api: row.api as LlmApi,
    ...azureFromColumn(row.azure),
    auth: row.auth as AuthScheme,
    credentialId: row.credentialId,
    ...extraBodyFromColumn(row.extraBody),
    headers: headersFromColumn(row.headers),
  };
}

function toEntry(e: AgentRow['llm'][number]): LlmEntry {
  const timeouts = toTimeouts(e.timeouts);
  if (e.providerId !== null) return { providerId: e.providerId, model: e.model, ...timeouts };
  return {
    ...toStoredEndpoint(e),
    model: e.model,
    apiKeyHint: e.credential?.apiKeyHint ?? null,
    ownedKey: e.credential !== null && e.credential.ownerAgentId !== null,
    ...timeouts,
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
    tools: row.tools as unknown as ToolDefinition[],
    systemTools: systemToolsFromWire(row.systemTools as SystemToolsWire),
    forwardMetadata: row.forwardMetadata,
    variables: row.variables as Record<string, string>,
    llm: row.llm.map(toEntry),
    version: row.version,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

/**
 * Secret header values point into a JSON column, where a foreign key cannot: the writes of the
 * agent (or provider) that owns them keep the two in step.
 */
function runnableHeaders(headers: readonly LlmHeader[], owned: readonly SealedCredentialRow[], owner: string): RunnableHeader[] {
  const byId = new Map(owned.map((c) => [c.id, c]));
  return headers.map((header) => {
    if ('value' in header) return header;
    const credential = byId.get(header.credentialId);
    if (credential === undefined) throw new Error(`${owner}: header ${header.name} has no stored value`);
    return { name: header.name, credentialId: header.credentialId, credential: loadedCredential(credential) };
  });
}

function toRunnable(row: RunnableRow): RunnableAgent {
  const agent = toAgent(row);
  return {
    ...agent,
    llm: row.llm.map((e, i): RunnableLlmEntry => {
      const entry = agent.llm[i]!;
      const timeouts = toTimeouts(e.timeouts);
      if (usesProvider(entry)) {
        // A foreign key holds the provider: an entry that names one has it.
        const provider = e.provider!;
        const endpoint = toStoredEndpoint(provider);
        return {
          ...endpoint,
          model: mappedModel(provider.modelMap as Record<string, string>, e.model),
          apiKeyHint: provider.credential?.apiKeyHint ?? null,
          ownedKey: provider.credential !== null && provider.credential.ownerProviderId !== null,
          ...timeouts,
          credential: provider.credential === null ? null : loadedCredential(provider.credential),
          headers: runnableHeaders(endpoint.headers, provider.ownedCredentials, `provider ${e.providerId}`),
          providerId: entry.providerId,
        };
      }
      return {
        ...entry,
        credential: e.credential === null ? null : loadedCredential(e.credential),
        headers: runnableHeaders(entry.headers, row.ownedCredentials, `agent ${row.id}`),
      };
    }),
  };
}

function toTimeouts(value: Prisma.JsonValue): { timeouts?: LlmTimeouts } {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return {};
  const timeouts = Object.fromEntries(LLM_TIMEOUT_FIELDS.flatMap((f) => (typeof value[f] === 'number' ? [[f, value[f]]] : [])));
  // An entry saved with `timeouts: {}` reads like one saved without: nothing overridden.
  return Object.keys(timeouts).length === 0 ? {} : { timeouts };
}

import { Injectable } from '@nestjs/common';
import type { OrgId } from '#agentplane/auth';
import { Clock } from '#agentplane/clock';
import {
  type EtagCondition,
  etagMatches,
  newId,
  type Page,
  pageRequest,
  ReadCache,
  type Transaction,
  UnitOfWork,
  updateWithRetries,
} from '#agentplane/db';
import {
  type CheckedEndpoint,
  type Endpoint,
  type EndpointInput,
  EndpointsService,
  type LlmTimeouts,
  type Placed,
  throwFieldErrors,
} from '#agentplane/endpoints';
import { DomainError, type FieldError } from '#agentplane/errors';
import { IdempotencyService, type IdempotentRequest, type StoredResponse } from '#agentplane/idempotency';
import { ProvidersService } from '#agentplane/providers';
import { type Agent, agentEtag, type RunnableAgent, SYSTEM_TOOL_NAMES, type SystemToolName, usesProvider } from './agent.js';
import { type AgentFields, AgentRepository, type StoredEntry } from './agent.repository.js';

/** An llm entry with its own endpoint, as a write gives it. */
export interface InlineEntryInput extends EndpointInput {
  readonly model: string;
  readonly timeouts?: LlmTimeouts;
}

/** An llm entry that uses a provider of the organization. */
export interface ProviderEntryInput {
  readonly providerId: string;
  readonly model: string;
  readonly timeouts?: LlmTimeouts;
}

export type LlmEntryInput = InlineEntryInput | ProviderEntryInput;

export interface AgentInput extends AgentFields {
  readonly llm: readonly LlmEntryInput[];
}

/** A create sent with an Idempotency-Key, and how its response looks, to be stored for replays. */
export interface IdempotentCreate extends IdempotentRequest {
  readonly present: (agent: Agent) => StoredResponse;
}

export type CreateResult = { readonly agent: Agent } | { readonly replay: StoredResponse };

/**
 * How long a reply or a read may use an agent as read for an earlier one: the bound on how late an
 * instance sees a change another instance made (this one's own writes are seen at once).
 */
const AGENT_TTL_MS = 900;
const AGENT_MAX = 5_000;
const PAGES_MAX = 1_000;
// Agents may be large (instructions, tools): each of the three caches is bounded by weight as well
// as by count.
const CACHE_MAX_BYTES = 32 * 1024 * 1024;

/** The inline entries of an input, checked, with the index each stands at. */
type CheckedEntries = readonly (Placed<CheckedEndpoint> & { readonly index: number })[];

/**
 * The rules for agents: their llm entries (endpoints of their own, under the endpoints' rules, or
 * providers of the same organization), their tools and their transfer targets.
 */
@Injectable()
export class AgentsService {
  private readonly runnable: ReadCache<RunnableAgent>;
  private readonly views: ReadCache<Agent>;
  private readonly pages: ReadCache<Page<Agent>>;

  constructor(
    private readonly agents: AgentRepository,
    private readonly endpoints: EndpointsService,
    private readonly providers: ProvidersService,
    private readonly idempotency: IdempotencyService,
    private readonly uow: UnitOfWork,
    private readonly clock: Clock,
  ) {
    const bounds = { max: AGENT_MAX, ttlMs: AGENT_TTL_MS, maxSize: CACHE_MAX_BYTES, sizeOf: agentBytes };
    this.runnable = new ReadCache<RunnableAgent>(uow, bounds);
    this.views = new ReadCache<Agent>(uow, bounds);
    this.pages = new ReadCache<Page<Agent>>(uow, {
      ...bounds,
      max: PAGES_MAX,
      sizeOf: (page) => page.data.reduce((sum, agent) => sum + agentBytes(agent), 1024),
    });
  }

  /**
   * Creates an agent, its inline keys (sealed, owned by it) and its entries in one transaction.
   * With an Idempotency-Key, the key is claimed before anything else, and the response is stored
   * in the same transaction: a retry replays it.
   */
  async create(orgId: OrgId, input: AgentInput, idempotent?: IdempotentCreate): Promise<CreateResult> {
    const outcome = await this.idempotency.run(orgId, idempotent, async (complete) => {
      const checked = await this.checkEntries(input);
      return this.uow.transaction(async (tx) => {
        const id = newId('agt');
        await this.checkTransferTargets(tx, orgId, id, input);
        await this.checkProviders(tx, orgId, input);
        await this.agents.insert(tx, orgId, id, input, this.clock.now());
        await this.agents.insertEntries(tx, id, await this.storedEntries(tx, orgId, id, input, checked));
        const agent = await this.agents.read(tx, orgId, id);
        if (complete !== undefined) await complete(tx, idempotent!.present(agent));
        return agent;
      });
    });
    return 'replay' in outcome ? outcome : { agent: outcome.result };
  }

  /** A page of the organization's agents, newest first; cached as `get` is. */
  async list(orgId: OrgId, limit: number, cursor?: string): Promise<Page<Agent>> {
    const page = pageRequest(limit, cursor);
    return (await this.pages.get(`${orgId}/${limit}/${cursor ?? ''}`, () => this.agents.list(orgId, page)))!;
  }

  /**
   * The agent as the API shows it. Reads in quick succession share one (see AGENT_TTL_MS); any
   * write this process makes ends that at once, so a client sees its own change on its next read.
   */
  async get(orgId: OrgId, id: string): Promise<Agent> {
    return (await this.views.get(`${orgId}/${id}`, () => this.agents.find(orgId, id))) ?? notFound();
  }

  /**
   * The agent as a reply needs it: entries resolved (providers included), with their credentials,
   * still sealed. Replies in quick succession share one read (see AGENT_TTL_MS); any write this
   * process makes, to an agent, a provider or a credential, ends that at once.
   */
  async getRunnable(orgId: OrgId, id: string): Promise<RunnableAgent> {
    return (await this.runnable.get(`${orgId}/${id}`, () => this.agents.findRunnable(orgId, id))) ?? notFound();
  }

  /**
   * Replaces the whole agent. An inline entry without api_key or credential_id keeps the key of the
   * inline entry at the same index, but only while the origin is the same: a stored key is never
   * sent to a host it was not given for. With `ifMatch`, a changed agent is a 412 and nothing changes.
   */
  async replace(orgId: OrgId, id: string, input: AgentInput, ifMatch?: EtagCondition): Promise<Agent> {
    const checked = await this.checkEntries(input);
    return this.uow.transaction(async (tx) => {
      // Providers before the agent's row, in the order a provider's delete takes them: no deadlock.
      await this.checkProviders(tx, orgId, input);
      const current = (await this.agents.lockForUpdate(tx, orgId, id)) ?? notFound();
      if (ifMatch !== undefined && !etagMatches(ifMatch, agentEtag(current))) throw DomainError.preconditionFailed('agent');
      await this.checkTransferTargets(tx, orgId, id, input, current);
      const stored = await this.storedEntries(tx, orgId, id, input, checked, current);
      await this.agents.replaceEntries(tx, orgId, id, stored);
      await this.endpoints.deleteUnusedKeys(tx, orgId, { agentId: id }, stored.filter(isInlineStored));
      await this.agents.update(tx, orgId, id, input, this.clock.now());
      return this.agents.read(tx, orgId, id);
    });
  }

  /**
   * A partial update: `change` turns the agent as it is into the whole input to store (the edge
   * applies a merge patch to the agent's representation and validates the result), which is then
   * stored under the same rules as `replace`. The change is computed from a read outside the
   * transaction, since checking base_urls resolves names and must not hold the row lock; if the
   * agent changes before the write, it is read and changed again.
   */
  async update(orgId: OrgId, id: string, change: (current: Agent) => Promise<AgentInput>, ifMatch?: EtagCondition): Promise<Agent> {
    return updateWithRetries(
      {
        // From the database, not the cache: a retry after a concurrent change must see that change.
        read: async () => (await this.agents.find(orgId, id)) ?? notFound(),
        etagOf: agentEtag,
        write: async (current, etag) => this.replace(orgId, id, await change(current), etag),
        resource: 'agent',
        sleep: (ms) => this.clock.sleep(ms),
      },
      ifMatch,
    );
  }

  /** Deletes the agent and the keys it owns. With `ifMatch`, a changed agent is a 412 and stays. */
  async delete(orgId: OrgId, id: string, ifMatch?: EtagCondition): Promise<void> {
    await this.uow.transaction(async (tx) => {
      const current = (await this.agents.lockForUpdate(tx, orgId, id)) ?? notFound();
      if (ifMatch !== undefined && !etagMatches(ifMatch, agentEtag(current))) throw DomainError.preconditionFailed('agent');
      await this.agents.delete(tx, orgId, id);
    });
  }

  /**
   * The rules that need no stored state: the inline entries' endpoints (base_url with DNS, key
   * sources, masks) and tool names. Every error at once.
   */
  private async checkEntries(input: AgentInput): Promise<CheckedEntries> {
    const inline = input.llm.flatMap((entry, index) => (isInline(entry) ? [{ index, at: `llm[${index}]`, endpoint: entry }] : []));
    const { checked, errors } = await this.endpoints.check(inline);
    throwFieldErrors([...toolNameClashes(input), ...errors]);
    // check() keeps the order of what it was given and drops only entries it reported.
    return checked.map((c) => ({ ...c, index: inline.find((i) => i.at === c.at)!.index }));
  }

  /** Each provider_id must name a provider of the organization, which stays until the write ends. */
  private async checkProviders(tx: Transaction, orgId: OrgId, input: AgentInput): Promise<void> {
    const ids = [...new Set(input.llm.flatMap((e) => (isInline(e) ? [] : [e.providerId])))];
    if (ids.length === 0) return;
    const found = await this.providers.referencesFor(tx, orgId, ids);
    const errors: FieldError[] = input.llm.flatMap((entry, i) =>
      isInline(entry) || found.has(entry.providerId)
        ? []
        : [{ path: `llm[${i}].provider_id`, code: 'not_found', message: 'is not a provider of this organization' }],
    );
    if (errors.length > 0) throw DomainError.validation(errors);
  }

  /** Each entry as stored: inline ones with their keys sealed or kept (see EndpointsService.store). */
  private async storedEntries(
    tx: Transaction,
    orgId: OrgId,
    agentId: string,
    input: AgentInput,
    checked: CheckedEntries,
    current?: Agent,
  ): Promise<StoredEntry[]> {
    // A key is kept only from an inline entry at the same index.
    const previous = checked.map(({ index }): Endpoint | undefined => {
      const before = current?.llm[index];
      return before === undefined || usesProvider(before) ? undefined : before;
    });
    const endpoints = await this.endpoints.store(tx, orgId, { agentId }, checked, previous);
    const byIndex = new Map(checked.map(({ index }, i) => [index, endpoints[i]!]));
    return input.llm.map((entry, index): StoredEntry => {
      const timeouts = entry.timeouts === undefined ? {} : { timeouts: entry.timeouts };
      if (!isInline(entry)) return { providerId: entry.providerId, model: entry.model, ...timeouts };
      return { ...byIndex.get(index)!, model: entry.model, ...timeouts };
    });
  }

  /** transfer_to_agent may only name other agents of the same organization. */
  // Targets the agent already had are not checked again: one deleted since must not block every
  // other change of the agent.
  private async checkTransferTargets(tx: Transaction, orgId: OrgId, selfId: string, input: AgentInput, current?: Agent): Promise<void> {
    const known = new Set((current?.systemTools.transfer_to_agent?.transfers ?? []).map((t) => t.agentId));
    const transfers = input.systemTools.transfer_to_agent?.transfers ?? [];
    const added = transfers.filter((t) => !known.has(t.agentId));
    if (added.length === 0) return;
    const existing = await this.agents.existingIds(tx, orgId, [...new Set(added.map((t) => t.agentId))]);
    const errors: FieldError[] = [];
    transfers.forEach((transfer, i) => {
      if (known.has(transfer.agentId)) return;
      const path = `system_tools.transfer_to_agent.transfers[${i}].agent_id`;
      if (transfer.agentId === selfId) errors.push({ path, code: 'self_transfer', message: 'must name another agent, not this one' });
      else if (!existing.has(transfer.agentId)) errors.push({ path, code: 'not_found', message: 'is not an agent of this organization' });
    });
    if (errors.length > 0) throw DomainError.validation(errors);
  }
}

/** Roughly what an agent weighs in memory: its text as UTF-16, and a fixed share per entry (sealed keys, URLs). */
function agentBytes(agent: Agent | RunnableAgent): number {
  const text = JSON.stringify([agent.instructions, agent.tools, agent.systemTools, agent.metadata, agent.variables]);
  const llm: readonly object[] = agent.llm;
  const extra = (e: object): number => ('extraBody' in e && e.extraBody !== undefined ? JSON.stringify(e.extraBody).length * 2 : 0);
  const entries = llm.reduce((sum: number, e) => sum + 1024 + extra(e), 0);
  return 1024 + text.length * 2 + entries;
}

export function isInline(entry: LlmEntryInput): entry is InlineEntryInput {
  return !('providerId' in entry);
}

function isInlineStored(entry: StoredEntry): entry is Extract<StoredEntry, { baseUrl: string }> {
  return 'baseUrl' in entry;
}

/** A custom tool may not take the name of a system tool the agent enables: the model could not tell them apart. */
function toolNameClashes(input: AgentInput): FieldError[] {
  const enabled = new Set(SYSTEM_TOOL_NAMES.filter((name) => input.systemTools[name] !== undefined));
  return input.tools.flatMap((tool, i) =>
    enabled.has(tool.name as SystemToolName)
      ? [{ path: `tools[${i}].name`, code: 'duplicate_name', message: `is the name of an enabled system tool` }]
      : [],
  );
}

function notFound(): never {
  throw DomainError.notFound('Agent');
}

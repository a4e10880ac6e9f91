import { Injectable } from '@nestjs/common';
import type { OrgId } from '#agentplane/auth';
import { Clock } from '#agentplane/clock';
import { type CredentialRefs, CredentialsErrorCode, CredentialsService, maskedKeyError, maskedKeyField } from '#agentplane/credentials';
import { newId, type Page, pageRequest, type Transaction, UnitOfWork } from '#agentplane/db';
import { EgressPolicy } from '#agentplane/egress';
import { CommonErrorCode, DomainError, type FieldError } from '#agentplane/errors';
import { IdempotencyService, type IdempotentRequest, type StoredResponse } from '#agentplane/idempotency';
import { looksMasked, secretHint } from '#agentplane/keys';
import {
  type Agent,
  agentEtag,
  type EtagCondition,
  etagMatches,
  type RunnableAgent,
  SYSTEM_TOOL_NAMES,
  type SystemToolName,
} from './agent.js';
import {
  type AuthScheme,
  type AzureSettings,
  type JsonObject,
  type LlmApi,
  type LlmHeader,
  type LlmTimeouts,
  originOf,
  resolveBaseUrl,
} from '#agentplane/endpoints';
import { type AgentFields, AgentRepository, type StoredEntry } from './agent.repository.js';
import { AgentsError, AgentsErrorCode } from './agents.error.js';

/**
 * An extra header of an entry: a plain value, a secret one (sealed like a key, for this entry's
 * origin only), or neither, which keeps the secret value stored under the same name for the entry
 * at the same index while its origin is unchanged.
 */
export type HeaderInput =
  { readonly name: string; readonly value: string } | { readonly name: string; readonly secretValue: string } | { readonly name: string };

export interface LlmEntryInput {
  /** Absent: the api's default (anthropic, google) or the Azure resource's host. */
  readonly baseUrl?: string;
  readonly model: string;
  readonly api: LlmApi;
  readonly azure?: AzureSettings;
  readonly auth: AuthScheme;
  /** A key given inline: stored sealed, owned by the agent, allowed only for this entry's origin. */
  readonly apiKey?: string;
  /** An org credential whose allowed_origins include this entry's origin. */
  readonly credentialId?: string;
  readonly timeouts?: LlmTimeouts;
  readonly extraBody?: JsonObject;
  readonly headers: readonly HeaderInput[];
}

export interface AgentInput extends AgentFields {
  readonly llm: readonly LlmEntryInput[];
}

/** A create sent with an Idempotency-Key, and how its response looks, to be stored for replays. */
export interface IdempotentCreate extends IdempotentRequest {
  readonly present: (agent: Agent) => StoredResponse;
}

export type CreateResult = { readonly agent: Agent } | { readonly replay: StoredResponse };

/** How often an update is computed again when the agent changed under it before giving up (412). */
const UPDATE_ATTEMPTS = 10;
const UPDATE_BACKOFF_MS = 10;

/** An entry whose base_url, resolved, passed the egress policy (DNS included). */
interface CheckedEntry extends LlmEntryInput {
  readonly baseUrl: string;
  readonly index: number;
  readonly origin: string;
}

/** The rules for agents: where their keys come from, and that a key never reaches another origin. */
@Injectable()
export class AgentsService {
  constructor(
    private readonly agents: AgentRepository,
    private readonly credentials: CredentialsService,
    private readonly idempotency: IdempotencyService,
    private readonly egress: EgressPolicy,
    private readonly uow: UnitOfWork,
    private readonly clock: Clock,
  ) {}

  /**
   * Creates an agent, its inline keys (sealed, owned by it) and its entries in one transaction.
   * With an Idempotency-Key, the key is claimed before anything else, and the response is stored
   * in the same transaction: a retry replays it.
   */
  async create(orgId: OrgId, input: AgentInput, idempotent?: IdempotentCreate): Promise<CreateResult> {
    const outcome = await this.idempotency.run(orgId, idempotent, async (complete) => {
      const entries = await this.checkEntries(input);
      const missing = entries.filter((e) => needsKeySource(e) && e.apiKey === undefined && e.credentialId === undefined);
      if (missing.length > 0) throw apiKeyRequired(missing.map((e) => e.index));
      const keptHeaders = keptSecretHeaders(undefined, entries);
      return this.uow.transaction(async (tx) => {
        const id = newId('agt');
        await this.checkTransferTargets(tx, orgId, id, input);
        verifyRequested(entries, await this.credentials.referencesFor(tx, orgId, requestedIds(entries)));
        await this.agents.insert(tx, orgId, id, input, this.clock.now());
        await this.agents.replaceEntries(tx, orgId, id, await this.storeKeys(tx, orgId, id, entries, new Map(), keptHeaders));
        const agent = await this.agents.read(tx, orgId, id);
        if (complete !== undefined) await complete(tx, idempotent!.present(agent));
        return agent;
      });
    });
    return 'replay' in outcome ? outcome : { agent: outcome.result };
  }

  async list(orgId: OrgId, limit: number, cursor?: string): Promise<Page<Agent>> {
    return this.agents.list(orgId, pageRequest(limit, cursor));
  }

  async get(orgId: OrgId, id: string): Promise<Agent> {
    return (await this.agents.find(orgId, id)) ?? notFound();
  }

  /** The agent as a reply needs it: entries with their credentials, still sealed. */
  async getRunnable(orgId: OrgId, id: string): Promise<RunnableAgent> {
    return (await this.agents.findRunnable(orgId, id)) ?? notFound();
  }

  /**
   * Replaces the whole agent. An entry without api_key or credential_id keeps the key of the
   * entry at the same index, but only while the origin is the same: a stored key is never sent
   * to a host it was not given for. With `ifMatch`, a changed agent is a 412 and nothing changes.
   */
  async replace(orgId: OrgId, id: string, input: AgentInput, ifMatch?: EtagCondition): Promise<Agent> {
    const entries = await this.checkEntries(input);
    return this.uow.transaction(async (tx) => {
      const current = (await this.agents.lockForUpdate(tx, orgId, id)) ?? notFound();
      if (ifMatch !== undefined && !etagMatches(ifMatch, agentEtag(current))) throw DomainError.preconditionFailed('agent');
      await this.checkTransferTargets(tx, orgId, id, input, current);
      const currentIds = current.llm.flatMap((e) => (e.credentialId === null ? [] : [e.credentialId]));
      const refs = await this.credentials.referencesFor(tx, orgId, [...currentIds, ...requestedIds(entries)]);
      verifyRequested(entries, refs);
      const kept = keptKeys(current, entries, refs);
      const stored = await this.storeKeys(tx, orgId, id, entries, kept, keptSecretHeaders(current, entries));
      await this.agents.replaceEntries(tx, orgId, id, stored);
      await this.credentials.deleteOwnedKeysExcept(tx, orgId, id, stored.flatMap(credentialIdsOf));
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
    for (let attempt = 1; ; attempt++) {
      const current = await this.get(orgId, id);
      if (ifMatch !== undefined && !etagMatches(ifMatch, agentEtag(current))) throw DomainError.preconditionFailed('agent');
      try {
        return await this.replace(orgId, id, await change(current), [agentEtag(current)]);
      } catch (error) {
        const raced = error instanceof DomainError && error.code === CommonErrorCode.PreconditionFailed;
        if (!raced || attempt === UPDATE_ATTEMPTS) throw error;
        // Writers that collided would collide again in step: spread them out.
        await this.clock.sleep(Math.random() * UPDATE_BACKOFF_MS * attempt);
      }
    }
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
   * The rules that need no stored state: base_url (DNS included), key sources, secret values that
   * are masks, and tool names. Every error at once.
   */
  private async checkEntries(input: AgentInput): Promise<CheckedEntry[]> {
    const locations = input.llm.map((entry, index) => resolveBaseUrl(entry, `llm[${index}]`));
    const verdicts = await Promise.all(locations.map(async (l) => ('baseUrl' in l ? this.egress.check(l.baseUrl) : undefined)));
    const errors: FieldError[] = toolNameClashes(input);
    const masked: string = CredentialsErrorCode.MaskedValueSubmitted;
    const checked: CheckedEntry[] = [];
    input.llm.forEach((entry, index) => {
      const location = locations[index]!;
      const verdict = verdicts[index];
      if ('errors' in location) errors.push(...location.errors);
      else if (!verdict!.ok) errors.push({ path: `llm[${index}].base_url`, code: verdict!.code, message: verdict!.message });
      if (entry.apiKey !== undefined && entry.credentialId !== undefined) {
        errors.push({
          path: `llm[${index}].credential_id`,
          code: 'conflicts_with_api_key',
          message: 'give either api_key or credential_id, not both',
        });
      }
      if (!needsKeySource(entry)) {
        for (const field of ['api_key', 'credential_id'] as const) {
          if ((field === 'api_key' ? entry.apiKey : entry.credentialId) === undefined) continue;
          errors.push({ path: `llm[${index}].${field}`, code: 'not_allowed_with_auth_none', message: 'must be absent when auth is none' });
        }
      }
      if (entry.apiKey !== undefined && looksMasked(entry.apiKey)) errors.push(maskedKeyField(`llm[${index}].api_key`));
      entry.headers.forEach((header, h) => {
        if ('secretValue' in header && looksMasked(header.secretValue)) {
          errors.push(maskedKeyField(`llm[${index}].headers[${h}].secret_value`));
        }
      });
      if (verdict?.ok === true) checked.push({ ...entry, index, baseUrl: verdict.href, origin: originOf(verdict.href) });
    });
    if (errors.length > 0) throw errors.every((e) => e.code === masked) ? maskedKeyError(errors) : DomainError.validation(errors);
    return checked;
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

  /**
   * Each entry as stored: inline keys and secret header values sealed and stored for the agent,
   * the others referenced or kept.
   */
  private async storeKeys(
    tx: Transaction,
    orgId: OrgId,
    agentId: string,
    entries: readonly CheckedEntry[],
    kept: ReadonlyMap<number, string>,
    keptHeaders: ReadonlyMap<string, LlmHeader>,
  ): Promise<StoredEntry[]> {
    const stored: StoredEntry[] = [];
    for (const entry of entries) {
      const headers: LlmHeader[] = [];
      for (const [h, header] of entry.headers.entries()) {
        if ('value' in header) {
          headers.push({ name: header.name, value: header.value });
        } else if ('secretValue' in header) {
          const credentialId = await this.credentials.storeOwnedKey(tx, orgId, agentId, {
            apiKey: header.secretValue,
            origin: entry.origin,
            name: `llm[${entry.index}] header ${header.name}`,
            field: `llm[${entry.index}].headers[${h}].secret_value`,
          });
          headers.push({ name: header.name, credentialId, valueHint: secretHint(header.secretValue) });
        } else {
          const keep = keptHeaders.get(`${entry.index}/${h}`);
          if (keep === undefined) throw new Error(`llm[${entry.index}].headers[${h}] has no value source`);
          headers.push(keep);
        }
      }
      const common = {
        baseUrl: entry.baseUrl,
        model: entry.model,
        api: entry.api,
        ...(entry.azure === undefined ? {} : { azure: entry.azure }),
        auth: entry.auth,
        headers,
        ...(entry.timeouts === undefined ? {} : { timeouts: entry.timeouts }),
        ...(entry.extraBody === undefined ? {} : { extraBody: entry.extraBody }),
      };
      if (!needsKeySource(entry)) {
        stored.push({ ...common, credentialId: null });
        continue;
      }
      let credentialId: string | undefined;
      if (entry.apiKey !== undefined) {
        credentialId = await this.credentials.storeOwnedKey(tx, orgId, agentId, {
          apiKey: entry.apiKey,
          origin: entry.origin,
          name: `llm[${entry.index}] key`,
          field: `llm[${entry.index}].api_key`,
        });
      } else {
        credentialId = entry.credentialId ?? kept.get(entry.index);
      }
      if (credentialId === undefined) throw new Error(`llm[${entry.index}] has no key source`);
      stored.push({ ...common, credentialId });
    }
    return stored;
  }
}

/** Every entry sends a key but one with `auth: none`. */
function needsKeySource(entry: LlmEntryInput): boolean {
  return entry.auth !== 'none';
}

/** The credentials a stored entry uses: its key and its secret header values. */
function credentialIdsOf(entry: StoredEntry): string[] {
  const headers = entry.headers.flatMap((h) => ('credentialId' in h ? [h.credentialId] : []));
  return entry.credentialId === null ? headers : [entry.credentialId, ...headers];
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

/**
 * The stored secret values that headers sent without one keep, by `entry/header` index: the secret
 * header of the same name (case-insensitive) on the entry at the same index, only for the same
 * origin, as for keys.
 */
function keptSecretHeaders(current: Agent | undefined, entries: readonly CheckedEntry[]): Map<string, LlmHeader> {
  const kept = new Map<string, LlmHeader>();
  const missing: FieldError[] = [];
  for (const entry of entries) {
    const previous = current?.llm[entry.index];
    const sameOrigin = previous !== undefined && originOf(previous.baseUrl) === entry.origin;
    entry.headers.forEach((header, h) => {
      if ('value' in header || 'secretValue' in header) return;
      const stored = sameOrigin
        ? previous.headers.find((p) => 'credentialId' in p && p.name.toLowerCase() === header.name.toLowerCase())
        : undefined;
      if (stored === undefined || !('credentialId' in stored)) {
        missing.push({
          path: `llm[${entry.index}].headers[${h}].secret_value`,
          code: 'secret_value_required',
          message: 'is required: give value or secret_value (a stored secret is kept only for the same name, origin and index)',
        });
        return;
      }
      kept.set(`${entry.index}/${h}`, { name: header.name, credentialId: stored.credentialId, valueHint: stored.valueHint });
    });
  }
  if (missing.length > 0) throw DomainError.validation(missing);
  return kept;
}

/**
 * The stored keys that entries without a key source keep: the key of the entry at the same index,
 * only for the same origin, and (for an org credential) only while it still allows that origin.
 */
function keptKeys(current: Agent, entries: readonly CheckedEntry[], refs: CredentialRefs): Map<number, string> {
  const kept = new Map<number, string>();
  const missing: number[] = [];
  const mismatched: FieldError[] = [];
  for (const entry of entries) {
    if (!needsKeySource(entry) || entry.apiKey !== undefined || entry.credentialId !== undefined) continue;
    const previous = current.llm[entry.index];
    if (previous === undefined || previous.credentialId === null || originOf(previous.baseUrl) !== entry.origin) {
      missing.push(entry.index);
      continue;
    }
    const ref = refs.get(previous.credentialId);
    if (!previous.ownedKey && (ref === undefined || !ref.allowedOrigins.includes(entry.origin))) {
      mismatched.push(originMismatch(entry.index));
      continue;
    }
    kept.set(entry.index, previous.credentialId);
  }
  if (missing.length > 0) throw apiKeyRequired(missing);
  if (mismatched.length > 0) throw originMismatchError(mismatched);
  return kept;
}

function requestedIds(entries: readonly CheckedEntry[]): string[] {
  return entries.flatMap((e) => (e.credentialId === undefined ? [] : [e.credentialId]));
}

/** Each credential_id must be an org credential (not a key another agent owns) allowing the entry's origin. */
function verifyRequested(entries: readonly CheckedEntry[], refs: CredentialRefs): void {
  const unknown: FieldError[] = [];
  const mismatched: FieldError[] = [];
  for (const entry of entries) {
    if (entry.credentialId === undefined) continue;
    const ref = refs.get(entry.credentialId);
    if (ref === undefined || ref.ownerAgentId !== null) {
      unknown.push({ path: `llm[${entry.index}].credential_id`, code: 'not_found', message: 'is not a credential of this organization' });
    } else if (!ref.allowedOrigins.includes(entry.origin)) {
      mismatched.push(originMismatch(entry.index));
    }
  }
  if (unknown.length > 0) throw DomainError.validation([...unknown, ...mismatched]);
  if (mismatched.length > 0) throw originMismatchError(mismatched);
}

function originMismatch(index: number): FieldError {
  return {
    path: `llm[${index}].credential_id`,
    code: AgentsErrorCode.CredentialOriginMismatch,
    message: "the credential's allowed_origins do not include this entry's base_url origin",
  };
}

function originMismatchError(errors: readonly FieldError[]): AgentsError {
  return new AgentsError(
    AgentsErrorCode.CredentialOriginMismatch,
    'A credential may only be used for an origin in its allowed_origins.',
    errors,
  );
}

function apiKeyRequired(indexes: readonly number[]): AgentsError {
  return new AgentsError(
    AgentsErrorCode.ApiKeyRequired,
    'An llm entry needs a key: a stored key is only kept for the same origin at the same index.',
    indexes.map((index) => ({
      path: `llm[${index}].api_key`,
      code: AgentsErrorCode.ApiKeyRequired,
      message: 'is required: give api_key or credential_id (a stored key is kept only for the same origin at the same index)',
    })),
  );
}

function notFound(): never {
  throw DomainError.notFound('Agent');
}

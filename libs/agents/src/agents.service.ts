import { Injectable } from '@nestjs/common';
import type { OrgId } from '#agentplane/auth';
import { Clock } from '#agentplane/clock';
import { type CredentialRefs, CredentialsErrorCode, CredentialsService, maskedKeyError, maskedKeyField } from '#agentplane/credentials';
import { newId, type Page, pageRequest, type Transaction, UnitOfWork } from '#agentplane/db';
import { EgressPolicy } from '#agentplane/egress';
import { DomainError, type FieldError } from '#agentplane/errors';
import { IdempotencyService, type IdempotentRequest, type StoredResponse } from '#agentplane/idempotency';
import { looksMasked } from '#agentplane/keys';
import {
  type Agent,
  agentEtag,
  type EtagCondition,
  etagMatches,
  type LlmApi,
  type LlmTimeouts,
  originOf,
  type RunnableAgent,
} from './agent.js';
import { type AgentFields, AgentRepository, type StoredEntry } from './agent.repository.js';
import { AgentsError, AgentsErrorCode } from './agents.error.js';

export interface LlmEntryInput {
  readonly baseUrl: string;
  readonly model: string;
  readonly api: LlmApi;
  /** A key given inline: stored sealed, owned by the agent, allowed only for this entry's origin. */
  readonly apiKey?: string;
  /** An org credential whose allowed_origins include this entry's origin. */
  readonly credentialId?: string;
  readonly timeouts?: LlmTimeouts;
}

export interface AgentInput extends AgentFields {
  readonly llm: readonly LlmEntryInput[];
}

/** A create sent with an Idempotency-Key, and how its response looks, to be stored for replays. */
export interface IdempotentCreate extends IdempotentRequest {
  readonly present: (agent: Agent) => StoredResponse;
}

export type CreateResult = { readonly agent: Agent } | { readonly replay: StoredResponse };

/** An entry whose base_url passed the egress policy (DNS included). */
interface CheckedEntry extends LlmEntryInput {
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
      const entries = await this.checkEntries(input.llm);
      const missing = entries.filter((e) => e.apiKey === undefined && e.credentialId === undefined);
      if (missing.length > 0) throw apiKeyRequired(missing.map((e) => e.index));
      return this.uow.transaction(async (tx) => {
        verifyRequested(entries, await this.credentials.referencesFor(tx, orgId, requestedIds(entries)));
        const id = newId('agt');
        await this.agents.insert(tx, orgId, id, input, this.clock.now());
        await this.agents.replaceEntries(tx, orgId, id, await this.storeKeys(tx, orgId, id, entries, new Map()));
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
    const entries = await this.checkEntries(input.llm);
    return this.uow.transaction(async (tx) => {
      const current = (await this.agents.lockForUpdate(tx, orgId, id)) ?? notFound();
      if (ifMatch !== undefined && !etagMatches(ifMatch, agentEtag(current))) throw DomainError.preconditionFailed('agent');
      const refs = await this.credentials.referencesFor(tx, orgId, [...current.llm.map((e) => e.credentialId), ...requestedIds(entries)]);
      verifyRequested(entries, refs);
      const kept = keptKeys(current, entries, refs);
      const stored = await this.storeKeys(tx, orgId, id, entries, kept);
      await this.agents.replaceEntries(tx, orgId, id, stored);
      await this.credentials.deleteOwnedKeysExcept(
        tx,
        orgId,
        id,
        stored.map((e) => e.credentialId),
      );
      await this.agents.update(tx, orgId, id, input, this.clock.now());
      return this.agents.read(tx, orgId, id);
    });
  }

  /** Deletes the agent and the keys it owns. With `ifMatch`, a changed agent is a 412 and stays. */
  async delete(orgId: OrgId, id: string, ifMatch?: EtagCondition): Promise<void> {
    await this.uow.transaction(async (tx) => {
      const current = (await this.agents.lockForUpdate(tx, orgId, id)) ?? notFound();
      if (ifMatch !== undefined && !etagMatches(ifMatch, agentEtag(current))) throw DomainError.preconditionFailed('agent');
      await this.agents.delete(tx, orgId, id);
    });
  }

  /** The base_url rules (DNS included) and the key-source rules, every entry's errors at once. */
  private async checkEntries(llm: readonly LlmEntryInput[]): Promise<CheckedEntry[]> {
    const verdicts = await Promise.all(llm.map((entry) => this.egress.check(entry.baseUrl)));
    const errors: FieldError[] = [];
    const masked: string = CredentialsErrorCode.MaskedValueSubmitted;
    const checked: CheckedEntry[] = [];
    llm.forEach((entry, index) => {
      const verdict = verdicts[index]!;
      if (!verdict.ok) errors.push({ path: `llm[${index}].base_url`, code: verdict.code, message: verdict.message });
      if (entry.apiKey !== undefined && entry.credentialId !== undefined) {
        errors.push({
          path: `llm[${index}].credential_id`,
          code: 'conflicts_with_api_key',
          message: 'give either api_key or credential_id, not both',
        });
      }
      if (entry.apiKey !== undefined && looksMasked(entry.apiKey)) errors.push(maskedKeyField(`llm[${index}].api_key`));
      if (verdict.ok) checked.push({ ...entry, index, baseUrl: verdict.href, origin: originOf(verdict.href) });
    });
    if (errors.length > 0) throw errors.every((e) => e.code === masked) ? maskedKeyError(errors) : DomainError.validation(errors);
    return checked;
  }

  /** Each entry as stored: inline keys sealed and stored for the agent, the others referenced or kept. */
  private async storeKeys(
    tx: Transaction,
    orgId: OrgId,
    agentId: string,
    entries: readonly CheckedEntry[],
    kept: ReadonlyMap<number, string>,
  ): Promise<StoredEntry[]> {
    const stored: StoredEntry[] = [];
    for (const entry of entries) {
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
      stored.push({
        baseUrl: entry.baseUrl,
        model: entry.model,
        api: entry.api,
        credentialId,
        ...(entry.timeouts === undefined ? {} : { timeouts: entry.timeouts }),
      });
    }
    return stored;
  }
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
    if (entry.apiKey !== undefined || entry.credentialId !== undefined) continue;
    const previous = current.llm[entry.index];
    if (previous === undefined || originOf(previous.baseUrl) !== entry.origin) {
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

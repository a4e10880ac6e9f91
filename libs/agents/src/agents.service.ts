import { Injectable } from '@nestjs/common';
import type { OrgId } from '@agentplane/auth';
import { Clock } from '@agentplane/clock';
import { CredentialsService, Fingerprinter, looksMasked } from '@agentplane/credentials';
import { decodeCursor, encodeCursor, newId } from '@agentplane/db';
import { EgressPolicy } from '@agentplane/egress';
import { DomainError, ErrorCode, type FieldError } from '@agentplane/errors';
import { type Agent, agentEtag, type AgentPage, ifMatchSatisfied, type LlmApi, type LlmTimeouts, originOf, type RunnableAgent } from './agent.js';
import { type AgentPlan, AgentRepository, type CredentialRefs, type PlannedEntry, type PlannedKey } from './agent.repository.js';

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

export interface AgentInput {
  readonly name: string;
  readonly instructions: string | null;
  readonly temperature: number | null;
  readonly maxTokens: number | null;
  readonly metadata: Readonly<Record<string, string>>;
  readonly llm: readonly LlmEntryInput[];
}

export interface IdempotentRequest {
  readonly key: string;
  /** The request as received (method, path, body), canonical: what "the same request" means. */
  readonly request: string;
}

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
    private readonly egress: EgressPolicy,
    private readonly fingerprinter: Fingerprinter,
    private readonly clock: Clock,
  ) {}

  async create(orgId: OrgId, input: AgentInput, idempotency?: IdempotentRequest): Promise<{ agent: Agent; replayed: boolean }> {
    const entries = await this.checkEntries(input.llm);
    const missing = entries.filter((e) => e.apiKey === undefined && e.credentialId === undefined);
    if (missing.length > 0) throw apiKeyRequired(missing.map((e) => e.index));
    const plan = this.plan(orgId, input, entries, () => undefined);
    const claim = idempotency === undefined ? undefined : { key: idempotency.key, fingerprint: this.fingerprinter.fingerprint(idempotency.request) };
    const outcome = await this.agents.create(orgId, newId('agt'), plan, (refs) => verifyRequested(entries, refs), claim);
    if (outcome.kind === 'created') return { agent: outcome.agent, replayed: false };
    if (!this.fingerprinter.matches(idempotency!.request, outcome.fingerprint)) throw idempotencyKeyReused();
    return { agent: outcome.agent, replayed: true };
  }

  async list(orgId: OrgId, limit: number, cursor?: string): Promise<AgentPage> {
    let after;
    if (cursor !== undefined) {
      after = decodeCursor(cursor);
      if (after === undefined) throw new DomainError(ErrorCode.InvalidCursor, 'The cursor is not one this API issued.');
    }
    const { rows, hasMore } = await this.agents.list(orgId, limit, after);
    const last = rows.at(-1);
    return { data: rows, hasMore, nextCursor: hasMore && last !== undefined ? encodeCursor(last) : null };
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
  async replace(orgId: OrgId, id: string, input: AgentInput, ifMatch?: string): Promise<Agent> {
    const entries = await this.checkEntries(input.llm);
    const requested = entries.flatMap((e) => (e.credentialId === undefined ? [] : [e.credentialId]));
    const replaced = await this.agents.replace(orgId, id, requested, this.clock.now(), (current, refs) => {
      if (ifMatch !== undefined && !ifMatchSatisfied(ifMatch, agentEtag(current))) {
        throw new DomainError(ErrorCode.PreconditionFailed, 'The agent changed since that ETag: read it again and reapply the change.');
      }
      verifyRequested(entries, refs);
      const kept = new Map<number, PlannedKey>();
      const missing: number[] = [];
      const errors: FieldError[] = [];
      for (const entry of entries) {
        if (entry.apiKey !== undefined || entry.credentialId !== undefined) continue;
        const previous = current.llm[entry.index];
        if (previous === undefined || originOf(previous.baseUrl) !== entry.origin) {
          missing.push(entry.index);
          continue;
        }
        // A kept org credential must still allow this origin (its origins may have changed since).
        const ref = refs.get(previous.credentialId);
        if (!previous.ownedKey && (ref === undefined || !ref.allowedOrigins.includes(entry.origin))) {
          errors.push(originMismatch(entry.index));
          continue;
        }
        kept.set(entry.index, { kind: 'existing', credentialId: previous.credentialId });
      }
      if (missing.length > 0) throw apiKeyRequired(missing);
      if (errors.length > 0) throw withCode(ErrorCode.CredentialOriginMismatch, errors);
      return this.plan(orgId, input, entries, (index) => kept.get(index));
    });
    return replaced ?? notFound();
  }

  async delete(orgId: OrgId, id: string): Promise<void> {
    if (!(await this.agents.delete(orgId, id))) notFound();
  }

  /** The base_url rules (DNS included) and the key-source rules, every entry's errors at once. */
  private async checkEntries(llm: readonly LlmEntryInput[]): Promise<CheckedEntry[]> {
    const verdicts = await Promise.all(llm.map((entry) => this.egress.check(entry.baseUrl)));
    const errors: FieldError[] = [];
    const checked: CheckedEntry[] = [];
    llm.forEach((entry, index) => {
      const verdict = verdicts[index]!;
      if (!verdict.ok) errors.push({ path: `llm[${index}].base_url`, code: verdict.code, message: verdict.message });
      if (entry.apiKey !== undefined && entry.credentialId !== undefined) {
        errors.push({ path: `llm[${index}].credential_id`, code: 'conflicts_with_api_key', message: 'give either api_key or credential_id, not both' });
      }
      if (entry.apiKey !== undefined && looksMasked(entry.apiKey)) {
        errors.push({ path: `llm[${index}].api_key`, code: ErrorCode.MaskedValueSubmitted, message: 'is a masked hint, not a key' });
      }
      if (verdict.ok) checked.push({ ...entry, index, baseUrl: verdict.href, origin: originOf(verdict.href) });
    });
    if (errors.length > 0) {
      const masked: string = ErrorCode.MaskedValueSubmitted;
      throw errors.every((e) => e.code === masked)
        ? withCode(ErrorCode.MaskedValueSubmitted, errors)
        : DomainError.validation(errors);
    }
    return checked;
  }

  private plan(orgId: OrgId, input: AgentInput, entries: readonly CheckedEntry[], kept: (index: number) => PlannedKey | undefined): AgentPlan {
    const llm = entries.map((entry): PlannedEntry => {
      let key: PlannedKey | undefined;
      if (entry.apiKey !== undefined) {
        key = { kind: 'new', credential: this.credentials.sealForOrigin(orgId, entry.apiKey, entry.origin, `llm[${entry.index}] key`) };
      } else if (entry.credentialId !== undefined) {
        key = { kind: 'existing', credentialId: entry.credentialId };
      } else {
        key = kept(entry.index);
      }
      if (key === undefined) throw new Error(`llm[${entry.index}] has no key source`);
      return {
        baseUrl: entry.baseUrl,
        model: entry.model,
        api: entry.api,
        key,
        ...(entry.timeouts === undefined ? {} : { timeouts: entry.timeouts }),
      };
    });
    return {
      name: input.name,
      instructions: input.instructions,
      temperature: input.temperature,
      maxTokens: input.maxTokens,
      metadata: input.metadata,
      llm,
    };
  }
}

/** Each credential_id must be an org credential (not a key another agent owns) allowing the entry's origin. */
function verifyRequested(entries: readonly CheckedEntry[], refs: CredentialRefs): void {
  const unknown: FieldError[] = [];
  const mismatched: FieldError[] = [];
  for (const entry of entries) {
    if (entry.credentialId === undefined) continue;
    const ref = refs.get(entry.credentialId);
    if (ref === undefined || ref.ownerAgentId !== null) {
      unknown.push({ path: `llm[${entry.index}].credential_id`, code: ErrorCode.NotFound, message: 'is not a credential of this organization' });
    } else if (!ref.allowedOrigins.includes(entry.origin)) {
      mismatched.push(originMismatch(entry.index));
    }
  }
  if (unknown.length > 0) throw DomainError.validation([...unknown, ...mismatched]);
  if (mismatched.length > 0) throw withCode(ErrorCode.CredentialOriginMismatch, mismatched);
}

function originMismatch(index: number): FieldError {
  return {
    path: `llm[${index}].credential_id`,
    code: ErrorCode.CredentialOriginMismatch,
    message: "the credential's allowed_origins do not include this entry's base_url origin",
  };
}

function apiKeyRequired(indexes: readonly number[]): DomainError {
  return withCode(
    ErrorCode.ApiKeyRequired,
    indexes.map((index) => ({
      path: `llm[${index}].api_key`,
      code: ErrorCode.ApiKeyRequired,
      message: 'is required: give api_key or credential_id (a stored key is kept only for the same origin at the same index)',
    })),
  );
}

function withCode(code: ErrorCode, errors: readonly FieldError[]): DomainError {
  const detail =
    code === ErrorCode.ApiKeyRequired
      ? 'An llm entry needs a key: a stored key is only kept for the same origin at the same index.'
      : code === ErrorCode.CredentialOriginMismatch
        ? "A credential may only be used for an origin in its allowed_origins."
        : 'api_key holds a masked hint, not a key. Send the real key, or leave api_key out to keep the stored one.';
  return new DomainError(code, detail, errors);
}

function idempotencyKeyReused(): DomainError {
  return new DomainError(ErrorCode.IdempotencyKeyReused, 'This Idempotency-Key was used with a different request in the last 24 hours.');
}

function notFound(): never {
  throw DomainError.notFound('Agent');
}

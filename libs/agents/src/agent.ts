import { createHash } from 'node:crypto';
import type { OrgId } from '#agentplane/auth';
import type { LoadedCredential } from '#agentplane/credentials';

export const LLM_APIS = ['chat_completions', 'responses'] as const;
export type LlmApi = (typeof LLM_APIS)[number];

/** Per-entry overrides of the runtime's timeouts, in milliseconds. */
export interface LlmTimeouts {
  readonly connect_ms?: number;
  readonly first_token_ms?: number;
  readonly idle_ms?: number;
  readonly total_ms?: number;
}

export const LLM_TIMEOUT_FIELDS = ['connect_ms', 'first_token_ms', 'idle_ms', 'total_ms'] as const;

/** One entry of an agent's llm array as stored: its key is always a credential. */
export interface LlmEntry {
  readonly baseUrl: string;
  readonly model: string;
  readonly api: LlmApi;
  readonly credentialId: string;
  readonly apiKeyHint: string;
  /** True for a key given inline (the agent owns it); false for a referenced org credential. */
  readonly ownedKey: boolean;
  readonly timeouts?: LlmTimeouts;
}

export interface Agent {
  readonly id: string;
  readonly orgId: OrgId;
  readonly name: string;
  readonly instructions: string | null;
  readonly temperature: number | null;
  readonly maxTokens: number | null;
  readonly metadata: Readonly<Record<string, string>>;
  readonly llm: readonly LlmEntry[];
  readonly version: number;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/** An entry read for a reply: with its credential, still sealed, from the same query. */
export interface RunnableLlmEntry extends LlmEntry {
  readonly credential: LoadedCredential;
}

/** An agent read for a reply: everything a reply needs in one database round trip. */
export interface RunnableAgent extends Agent {
  readonly llm: readonly RunnableLlmEntry[];
}

/**
 * A strong ETag over everything a read shows (and the version), so it changes whenever the
 * representation does, including when a force-deleted credential takes an entry with it. Holds
 * no secret: hints only.
 */
export function agentEtag(agent: Agent): string {
  const state = JSON.stringify([
    agent.id,
    agent.version,
    agent.name,
    agent.instructions,
    agent.temperature,
    agent.maxTokens,
    Object.entries(agent.metadata).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
    agent.llm.map((e) => [
      e.baseUrl,
      e.model,
      e.api,
      e.credentialId,
      e.apiKeyHint,
      e.ownedKey,
      LLM_TIMEOUT_FIELDS.map((f) => e.timeouts?.[f] ?? null),
    ]),
    agent.updatedAt.toISOString(),
  ]);
  return `"${createHash('sha256').update(state).digest('base64url').slice(0, 27)}"`;
}

/**
 * A parsed `If-Match`: any current version (`*`), or the entity tags one of which must be current.
 * Only strong tags can match (the edge drops weak ones).
 */
export type EtagCondition = '*' | readonly string[];

export function etagMatches(condition: EtagCondition, etag: string): boolean {
  return condition === '*' || condition.includes(etag);
}

/** The origin (scheme, host, port) a base_url's key may be sent to. */
export function originOf(baseUrl: string): string {
  return new URL(baseUrl).origin;
}

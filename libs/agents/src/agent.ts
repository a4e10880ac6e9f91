import { createHash } from 'node:crypto';
import type { OrgId } from '#agentplane/auth';
import type { LoadedCredential } from '#agentplane/credentials';
import {
  type AuthScheme,
  type AzureSettings,
  type JsonObject,
  LLM_TIMEOUT_FIELDS,
  type LlmApi,
  type LlmHeader,
  type LlmTimeouts,
} from '#agentplane/endpoints';

/** One entry of an agent's llm array as stored: its key, when it has one, is always a credential. */
export interface LlmEntry {
  readonly baseUrl: string;
  readonly model: string;
  readonly api: LlmApi;
  /** Only for `api: azure`. */
  readonly azure?: AzureSettings;
  readonly auth: AuthScheme;
  /** Null only for `auth: none`. */
  readonly credentialId: string | null;
  readonly apiKeyHint: string | null;
  /** True for a key given inline (the agent owns it); false for a referenced org credential or none. */
  readonly ownedKey: boolean;
  readonly timeouts?: LlmTimeouts;
  /** Merged into the top level of every upstream body (keys the runtime owns are refused at save). */
  readonly extraBody?: JsonObject;
  readonly headers: readonly LlmHeader[];
}

/** A function the model may call; the caller runs it and sends the result back as a `tool` message. */
export interface ToolDefinition {
  readonly name: string;
  readonly description?: string;
  /** A JSON Schema object, checked against the meta-schema at save. */
  readonly parameters?: JsonObject;
}

export interface AgentTransfer {
  readonly agentId: string;
  readonly condition: string;
}

export interface NumberTransfer {
  /** E.164. */
  readonly number: string;
  readonly condition: string;
}

/**
 * The built-in tools an agent enables, by their canonical names (which are also the tool names
 * the model sees). A key present enables the tool.
 */
export interface SystemTools {
  readonly end_call?: Record<string, never>;
  readonly language_detection?: { readonly languages: readonly string[] };
  readonly transfer_to_agent?: { readonly transfers: readonly AgentTransfer[] };
  readonly transfer_to_number?: { readonly transfers: readonly NumberTransfer[] };
  readonly skip_turn?: Record<string, never>;
  readonly voicemail_detection?: Record<string, never>;
}

export const SYSTEM_TOOL_NAMES = [
  'end_call',
  'language_detection',
  'transfer_to_agent',
  'transfer_to_number',
  'skip_turn',
  'voicemail_detection',
] as const satisfies readonly (keyof SystemTools)[];
export type SystemToolName = (typeof SYSTEM_TOOL_NAMES)[number];

export interface Agent {
  readonly id: string;
  readonly orgId: OrgId;
  readonly name: string;
  readonly instructions: string | null;
  readonly temperature: number | null;
  readonly maxTokens: number | null;
  readonly metadata: Readonly<Record<string, string>>;
  readonly tools: readonly ToolDefinition[];
  readonly systemTools: SystemTools;
  /** Send a reply request's metadata upstream as a top-level `extra_metadata` object. */
  readonly forwardMetadata: boolean;
  /** Defaults for the `{{name}}` placeholders of `instructions`; a reply's variables override them. */
  readonly variables: Readonly<Record<string, string>>;
  readonly llm: readonly LlmEntry[];
  readonly version: number;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/** A header as a reply sends it: a secret one with its credential, still sealed. */
export type RunnableHeader =
  | { readonly name: string; readonly value: string }
  | { readonly name: string; readonly credentialId: string; readonly credential: LoadedCredential };

/** An entry read for a reply: with its credentials, still sealed, from the same query. */
export interface RunnableLlmEntry extends Omit<LlmEntry, 'headers'> {
  /** Null only for `auth: none`. */
  readonly credential: LoadedCredential | null;
  readonly headers: readonly RunnableHeader[];
}

/** An agent read for a reply: everything a reply needs in one database round trip. */
export interface RunnableAgent extends Omit<Agent, 'llm'> {
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
    sortedEntries(agent.metadata),
    agent.tools,
    SYSTEM_TOOL_NAMES.map((name) => agent.systemTools[name] ?? null),
    agent.forwardMetadata,
    sortedEntries(agent.variables),
    agent.llm.map((e) => [
      e.baseUrl,
      e.model,
      e.api,
      e.azure ?? null,
      e.auth,
      e.credentialId,
      e.apiKeyHint,
      e.ownedKey,
      LLM_TIMEOUT_FIELDS.map((f) => e.timeouts?.[f] ?? null),
      e.extraBody ?? null,
      e.headers,
    ]),
    agent.updatedAt.toISOString(),
  ]);
  return `"${createHash('sha256').update(state).digest('base64url').slice(0, 27)}"`;
}

function sortedEntries(record: Readonly<Record<string, string>>): [string, string][] {
  return Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * A parsed `If-Match`: any current version (`*`), or the entity tags one of which must be current.
 * Only strong tags can match (the edge drops weak ones).
 */
export type EtagCondition = '*' | readonly string[];

export function etagMatches(condition: EtagCondition, etag: string): boolean {
  return condition === '*' || condition.includes(etag);
}

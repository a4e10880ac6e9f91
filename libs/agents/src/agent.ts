import type { OrgId } from '#agentplane/auth';
import type { LoadedCredential } from '#agentplane/credentials';
import { strongEtag } from '#agentplane/db';
import { type Endpoint, type JsonObject, LLM_TIMEOUT_FIELDS, type LlmTimeouts } from '#agentplane/endpoints';

/** One entry of an agent's llm array with its own endpoint: its key, when it has one, is always a credential. */
export interface InlineLlmEntry extends Endpoint {
  readonly model: string;
  readonly timeouts?: LlmTimeouts;
}

/** One entry of an agent's llm array that uses a provider's endpoint, key and model map. */
export interface ProviderLlmEntry {
  readonly providerId: string;
  /** The model as the entry names it; the reply sends the provider's mapping of it. */
  readonly model: string;
  readonly timeouts?: LlmTimeouts;
}

export type LlmEntry = InlineLlmEntry | ProviderLlmEntry;

export function usesProvider(entry: LlmEntry): entry is ProviderLlmEntry {
  return 'providerId' in entry;
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

/**
 * An entry read for a reply, its endpoint resolved (a provider's, for an entry that uses one, with
 * the model mapped): with its credentials, still sealed, from the same query.
 */
export interface RunnableLlmEntry extends Omit<InlineLlmEntry, 'headers'> {
  /** Null only for `auth: none`. */
  readonly credential: LoadedCredential | null;
  readonly headers: readonly RunnableHeader[];
  /** Set when the endpoint is a provider's. */
  readonly providerId?: string;
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
  let etag = etags.get(agent);
  if (etag === undefined) etags.set(agent, (etag = computeEtag(agent)));
  return etag;
}

// Agents are immutable values, and the cached ones are shown many times: each is hashed once.
const etags = new WeakMap<Agent, string>();

function computeEtag(agent: Agent): string {
  return strongEtag([
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
    agent.llm.map((e) =>
      usesProvider(e)
        ? ['provider', e.providerId, e.model, LLM_TIMEOUT_FIELDS.map((f) => e.timeouts?.[f] ?? null)]
        : [
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
          ],
    ),
    agent.updatedAt.toISOString(),
  ]);
}

function sortedEntries(record: Readonly<Record<string, string>>): [string, string][] {
  return Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

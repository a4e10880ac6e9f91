/**
 * The wire format an endpoint speaks: OpenAI Chat Completions or Responses, Anthropic Messages,
 * Google Gemini (Generative Language API) or Azure OpenAI (chat completions on Azure's routes).
 */
export const LLM_APIS = ['chat_completions', 'responses', 'anthropic', 'google', 'azure'] as const;
export type LlmApi = (typeof LLM_APIS)[number];

/**
 * Where an Azure OpenAI endpoint's requests go. With `apiVersion`, the deployments route
 * (`…/openai/deployments/{deployment or model}/chat/completions?api-version=…`); without, the v1
 * route (`…/openai/v1/chat/completions`). `resource` names the host unless the base_url overrides it.
 */
export interface AzureSettings {
  readonly resource?: string;
  readonly apiVersion?: string;
  readonly deployment?: string;
}

/** How an endpoint's key is sent: which header carries it, or none at all. */
export const AUTH_SCHEMES = ['bearer', 'api_key_header', 'x_api_key', 'x_goog_api_key', 'none'] as const;
export type AuthScheme = (typeof AUTH_SCHEMES)[number];

/** Per-entry overrides of the runtime's timeouts, in milliseconds. */
export interface LlmTimeouts {
  readonly connect_ms?: number;
  readonly first_token_ms?: number;
  readonly idle_ms?: number;
  readonly total_ms?: number;
}

export const LLM_TIMEOUT_FIELDS = ['connect_ms', 'first_token_ms', 'idle_ms', 'total_ms'] as const;

/** Any JSON object (tool parameters, an extra body). */
export type JsonObject = { readonly [key: string]: JsonValue };
export type JsonValue = string | number | boolean | null | JsonObject | readonly JsonValue[];

/** An extra header an endpoint sends: its value in plain, or sealed as an owned credential. */
export type LlmHeader =
  | { readonly name: string; readonly value: string }
  /** `valueHint` is the credential's mask, kept with the header so reads need no join. */
  | { readonly name: string; readonly credentialId: string; readonly valueHint: string };

/**
 * An extra header as a write gives it: a plain value, a secret one (sealed like a key, for the
 * endpoint's origin only), or neither, which keeps the secret value stored under the same name for
 * the endpoint at the same position while its origin is unchanged.
 */
export type HeaderInput =
  { readonly name: string; readonly value: string } | { readonly name: string; readonly secretValue: string } | { readonly name: string };

/** Where an LLM is and how to call it, as a write gives it (an agent's inline llm entry, a provider). */
export interface EndpointInput {
  /** Absent: the api's default (anthropic, google) or the Azure resource's host. */
  readonly baseUrl?: string;
  readonly api: LlmApi;
  readonly azure?: AzureSettings;
  readonly auth: AuthScheme;
  /** A key given inline: stored sealed, owned by what the endpoint belongs to, allowed only for its origin. */
  readonly apiKey?: string;
  /** An org credential whose allowed_origins include the endpoint's origin. */
  readonly credentialId?: string;
  readonly extraBody?: JsonObject;
  readonly headers: readonly HeaderInput[];
}

/** An endpoint as stored: its key, when it has one, is always a credential. */
export interface StoredEndpoint {
  readonly baseUrl: string;
  readonly api: LlmApi;
  /** Only for `api: azure`. */
  readonly azure?: AzureSettings;
  readonly auth: AuthScheme;
  /** Null only for `auth: none`. */
  readonly credentialId: string | null;
  /** Merged into the top level of every upstream body (keys the runtime owns are refused at save). */
  readonly extraBody?: JsonObject;
  readonly headers: readonly LlmHeader[];
}

/** An endpoint as read. */
export interface Endpoint extends StoredEndpoint {
  readonly apiKeyHint: string | null;
  /** True for a key given inline (owned); false for a referenced org credential or none. */
  readonly ownedKey: boolean;
}

/** The origin (scheme, host, port) a base_url's key may be sent to. */
export function originOf(baseUrl: string): string {
  return new URL(baseUrl).origin;
}

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

/** The origin (scheme, host, port) a base_url's key may be sent to. */
export function originOf(baseUrl: string): string {
  return new URL(baseUrl).origin;
}

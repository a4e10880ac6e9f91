import type { FieldError } from '#agentplane/errors';
import type { AuthScheme, AzureSettings, LlmApi } from './endpoint.js';

/** The key header each API's own service expects, used when an endpoint names no `auth`. */
export const DEFAULT_AUTH: Readonly<Record<LlmApi, AuthScheme>> = {
  chat_completions: 'bearer',
  responses: 'bearer',
  anthropic: 'x_api_key',
  google: 'x_goog_api_key',
  azure: 'api_key_header',
};

/** The header each auth scheme puts the key in (lower case). */
export const AUTH_HEADER: Readonly<Record<AuthScheme, string | undefined>> = {
  bearer: 'authorization',
  api_key_header: 'api-key',
  x_api_key: 'x-api-key',
  x_goog_api_key: 'x-goog-api-key',
  none: undefined,
};

/** Where the APIs of one vendor live, for an endpoint that names no base_url. */
export const DEFAULT_BASE_URL: Readonly<Partial<Record<LlmApi, string>>> = {
  anthropic: 'https://api.anthropic.com/v1',
  google: 'https://generativelanguage.googleapis.com/v1beta',
};

const OPENAI_BODY = [
  'model',
  'messages',
  'input',
  'instructions',
  'stream',
  'stream_options',
  'tools',
  'tool_choice',
  'temperature',
  'max_tokens',
  'max_output_tokens',
  'user',
  'extra_metadata',
] as const;

/**
 * Top-level members of an upstream body that the runtime sets, per API: an extra body may not set
 * them. Gemini's `generationConfig` is not among them: the runtime merges its own members into it.
 */
export const RESERVED_BODY_FIELDS: Readonly<Record<LlmApi, readonly string[]>> = {
  chat_completions: OPENAI_BODY,
  responses: OPENAI_BODY,
  azure: OPENAI_BODY,
  anthropic: ['model', 'max_tokens', 'system', 'messages', 'stream', 'temperature', 'tools', 'tool_choice', 'metadata'],
  google: ['contents', 'systemInstruction', 'tools', 'toolConfig'],
};

/** Set by the HTTP client or the runtime for every request, or meaningful to one hop only. */
export const RESERVED_HEADERS: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
  'content-length',
  'content-type',
  'accept',
]);

/** Headers whose value is a credential: stored in plain they would come back on every read. */
export const CREDENTIAL_HEADERS: ReadonlySet<string> = new Set([
  'authorization',
  'proxy-authorization',
  'cookie',
  'api-key',
  'x-api-key',
  'x-goog-api-key',
]);

/** The parts of an endpoint that decide where its requests go. */
export interface EndpointLocation {
  readonly api: LlmApi;
  readonly baseUrl?: string;
  readonly azure?: AzureSettings;
}

const AZURE_V1 = /\/openai\/v1\/*$/;

/**
 * The base URL an endpoint's requests go to, or what is wrong with its location (paths under
 * `at`, like `llm[0]`). Anthropic and Google have defaults; Azure's is built from the resource
 * name, ending in `/openai` for the deployments route (with an api_version) or `/openai/v1`.
 */
export function resolveBaseUrl(location: EndpointLocation, at: string): { baseUrl: string } | { errors: FieldError[] } {
  const { api, baseUrl, azure } = location;
  const prefix = at === '' ? '' : `${at}.`;
  if (api !== 'azure') {
    if (azure !== undefined) return fail(`${prefix}azure`, 'not_allowed', 'is only for api azure');
    const resolved = baseUrl ?? DEFAULT_BASE_URL[api];
    return resolved === undefined ? fail(`${prefix}base_url`, 'required', `is required for api ${api}`) : { baseUrl: resolved };
  }
  if (baseUrl !== undefined) {
    // Without an api_version only the v1 route exists, and only the base_url can say it is one.
    if (azure?.apiVersion === undefined && !AZURE_V1.test(pathOf(baseUrl))) {
      return fail(`${prefix}azure.api_version`, 'required', 'is required unless base_url ends in /openai/v1 (the v1 route)');
    }
    return { baseUrl };
  }
  if (azure?.resource === undefined) {
    return fail(`${prefix}azure.resource`, 'required', 'is required for api azure when base_url is absent');
  }
  const base = `https://${azure.resource}.openai.azure.com/openai`;
  return { baseUrl: azure.apiVersion === undefined ? `${base}/v1` : base };
}

/** The path of a URL, or the whole text when it is none (the egress policy says what is wrong with it). */
function pathOf(url: string): string {
  return URL.canParse(url) ? new URL(url).pathname : url;
}

function fail(path: string, code: string, message: string): { errors: FieldError[] } {
  return { errors: [{ path, code, message }] };
}

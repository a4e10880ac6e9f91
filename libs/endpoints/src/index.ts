export {
  AUTH_SCHEMES,
  LLM_APIS,
  LLM_TIMEOUT_FIELDS,
  originOf,
  type AuthScheme,
  type AzureSettings,
  type JsonObject,
  type JsonValue,
  type LlmApi,
  type LlmHeader,
  type LlmTimeouts,
} from './endpoint.js';
export {
  AUTH_HEADER,
  CREDENTIAL_HEADERS,
  DEFAULT_AUTH,
  DEFAULT_BASE_URL,
  RESERVED_BODY_FIELDS,
  RESERVED_HEADERS,
  resolveBaseUrl,
  type EndpointLocation,
} from './endpoint-rules.js';

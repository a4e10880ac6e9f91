export {
  AUTH_SCHEMES,
  LLM_APIS,
  LLM_TIMEOUT_FIELDS,
  originOf,
  type AuthScheme,
  type Endpoint,
  type EndpointInput,
  type HeaderInput,
  type StoredEndpoint,
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
export { azureFromColumn, endpointColumns, extraBodyFromColumn, headersFromColumn } from './endpoint-columns.js';
export { EndpointsError, EndpointsErrorCode } from './endpoints.error.js';
export { EndpointsModule } from './endpoints.module.js';
export { type CheckedEndpoint, EndpointsService, fieldPath, keySourceErrors, type Placed, throwFieldErrors } from './endpoints.service.js';

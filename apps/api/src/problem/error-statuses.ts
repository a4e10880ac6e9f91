import { EndpointsErrorCode } from '#agentplane/endpoints';
import { ProvidersErrorCode } from '#agentplane/providers';
import { AuthErrorCode } from '#agentplane/auth';
import { CredentialsErrorCode } from '#agentplane/credentials';
import { EgressErrorCode } from '#agentplane/egress';
import { CommonErrorCode } from '#agentplane/errors';
import { ConnectionTestErrorCode, RuntimeErrorCode } from '#agentplane/runtime';

/** Failures raised by the HTTP framework itself (routing, body parsing, limits) before a handler runs. */
export enum HttpErrorCode {
  BadRequest = 'bad_request',
  MethodNotAllowed = 'method_not_allowed',
  NotAcceptable = 'not_acceptable',
  PayloadTooLarge = 'payload_too_large',
  UnsupportedMediaType = 'unsupported_media_type',
  TooManyRequests = 'too_many_requests',
}

/** Every code a problem+json response can carry. */
export type ErrorCode =
  | CommonErrorCode
  | HttpErrorCode
  | AuthErrorCode
  | EndpointsErrorCode
  | ProvidersErrorCode
  | CredentialsErrorCode
  | EgressErrorCode
  | RuntimeErrorCode
  | ConnectionTestErrorCode;

export interface ErrorStatus {
  readonly status: number;
  readonly title: string;
}

/**
 * The one place a code becomes an HTTP status. Keyed by every member of every module's enum: a
 * code added without a status here does not compile.
 */
export const ERROR_STATUSES: { readonly [C in ErrorCode]: ErrorStatus } = {
  [CommonErrorCode.NotFound]: { status: 404, title: 'Not found' },
  [CommonErrorCode.ValidationFailed]: { status: 422, title: 'Invalid request' },
  [CommonErrorCode.InvalidCursor]: { status: 400, title: 'Invalid cursor' },
  [CommonErrorCode.PreconditionFailed]: { status: 412, title: 'Precondition failed' },
  [CommonErrorCode.IdempotencyKeyReused]: { status: 422, title: 'Idempotency key reused' },
  [CommonErrorCode.IdempotencyKeyInProgress]: { status: 409, title: 'Idempotency key in use' },
  [CommonErrorCode.DatabaseUnavailable]: { status: 503, title: 'Database unavailable' },
  [CommonErrorCode.InternalError]: { status: 500, title: 'Internal Server Error' },

  [HttpErrorCode.BadRequest]: { status: 400, title: 'Bad Request' },
  [HttpErrorCode.MethodNotAllowed]: { status: 405, title: 'Method Not Allowed' },
  [HttpErrorCode.NotAcceptable]: { status: 406, title: 'Not Acceptable' },
  [HttpErrorCode.PayloadTooLarge]: { status: 413, title: 'Payload Too Large' },
  [HttpErrorCode.UnsupportedMediaType]: { status: 415, title: 'Unsupported Media Type' },
  [HttpErrorCode.TooManyRequests]: { status: 429, title: 'Too Many Requests' },

  [AuthErrorCode.Unauthenticated]: { status: 401, title: 'Unauthenticated' },
  [AuthErrorCode.LastActiveApiKey]: { status: 409, title: 'Last active API key' },

  // api_key_required is both agents' and credentials' code.
  [EndpointsErrorCode.ApiKeyRequired]: { status: 422, title: 'API key required' },
  [EndpointsErrorCode.CredentialOriginMismatch]: { status: 422, title: 'Credential not allowed for this origin' },
  [ProvidersErrorCode.ProviderInUse]: { status: 409, title: 'Provider in use' },

  [CredentialsErrorCode.MaskedValueSubmitted]: { status: 422, title: 'Masked value submitted' },
  [CredentialsErrorCode.CredentialInUse]: { status: 409, title: 'Credential in use' },
  [CredentialsErrorCode.CredentialOriginNotAllowed]: { status: 422, title: 'Origin not allowed for this credential' },
  [CredentialsErrorCode.CredentialUnavailable]: { status: 500, title: 'Credential unavailable' },

  [EgressErrorCode.InvalidUrl]: { status: 422, title: 'Invalid URL' },
  [EgressErrorCode.HttpsRequired]: { status: 422, title: 'HTTPS required' },
  [EgressErrorCode.PrivateHost]: { status: 422, title: 'Host not public' },
  [EgressErrorCode.UnresolvableHost]: { status: 422, title: 'Host does not resolve' },
  [EgressErrorCode.RedirectRefused]: { status: 502, title: 'Upstream redirect refused' },
  [EgressErrorCode.ResponseTooLarge]: { status: 502, title: 'Upstream response too large' },
  [EgressErrorCode.ConnectTimeout]: { status: 504, title: 'Upstream connect timeout' },
  [EgressErrorCode.HeadersTimeout]: { status: 504, title: 'Upstream timeout' },
  [EgressErrorCode.BodyTimeout]: { status: 504, title: 'Upstream timeout' },
  [EgressErrorCode.ConnectionFailed]: { status: 502, title: 'Upstream connection failed' },
  [EgressErrorCode.ConnectionRefused]: { status: 502, title: 'Upstream connection refused' },
  [EgressErrorCode.TlsUntrusted]: { status: 502, title: 'Upstream certificate not trusted' },
  [EgressErrorCode.TlsHostnameMismatch]: { status: 502, title: 'Upstream certificate for another host' },
  [EgressErrorCode.TlsFailed]: { status: 502, title: 'Upstream TLS handshake failed' },

  [RuntimeErrorCode.DnsFailed]: { status: 502, title: 'Upstream host does not resolve' },
  [RuntimeErrorCode.ConnectionRefused]: { status: 502, title: 'Upstream connection refused' },
  [RuntimeErrorCode.ConnectTimeout]: { status: 504, title: 'Upstream connect timeout' },
  [RuntimeErrorCode.TlsUntrusted]: { status: 502, title: 'Upstream certificate not trusted' },
  [RuntimeErrorCode.TlsHostnameMismatch]: { status: 502, title: 'Upstream certificate for another host' },
  [RuntimeErrorCode.TlsFailed]: { status: 502, title: 'Upstream TLS handshake failed' },
  [RuntimeErrorCode.ConnectFailed]: { status: 502, title: 'Upstream connection failed' },
  [RuntimeErrorCode.ConnectionLost]: { status: 502, title: 'Upstream connection lost' },
  [RuntimeErrorCode.Status]: { status: 502, title: 'Upstream error status' },
  [RuntimeErrorCode.FirstTokenTimeout]: { status: 504, title: 'Upstream first-token timeout' },
  [RuntimeErrorCode.IdleTimeout]: { status: 504, title: 'Upstream idle timeout' },
  [RuntimeErrorCode.TotalTimeout]: { status: 504, title: 'Upstream total timeout' },
  [RuntimeErrorCode.TooLarge]: { status: 502, title: 'Upstream reply too large' },
  [RuntimeErrorCode.Malformed]: { status: 502, title: 'Upstream reply malformed' },
  [RuntimeErrorCode.StreamError]: { status: 502, title: 'Upstream reported an error' },
  [RuntimeErrorCode.EgressRefused]: { status: 502, title: 'Egress refused' },
  [RuntimeErrorCode.NoLlmConfigured]: { status: 409, title: 'No LLM configured' },

  [ConnectionTestErrorCode.RateLimited]: { status: 429, title: 'Too many connection tests' },
};

export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(ERROR_STATUSES, code);
}

/** Every code, sorted: what openapi.yaml lists. */
export const ERROR_CODES: readonly ErrorCode[] = (Object.keys(ERROR_STATUSES) as ErrorCode[]).sort();

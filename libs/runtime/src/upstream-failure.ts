import { CredentialsError, CredentialsErrorCode } from '#agentplane/credentials';
import { isDatabaseUnavailable } from '#agentplane/db';
import { EgressError, EgressErrorCode, toEgressError } from '#agentplane/egress';
import { CommonError } from '#agentplane/errors';
import { RuntimeError, RuntimeErrorCode } from './runtime.error.js';

/** Why the connection could not be made, in the caller's terms; messages name no address. */
const CONNECT_FAILURES: Readonly<Partial<Record<EgressErrorCode, readonly [RuntimeErrorCode, string]>>> = {
  [EgressErrorCode.UnresolvableHost]: [RuntimeErrorCode.DnsFailed, "The upstream's host name does not resolve."],
  [EgressErrorCode.ConnectionRefused]: [
    RuntimeErrorCode.ConnectionRefused,
    'The upstream refused the connection: nothing listens at that port.',
  ],
  [EgressErrorCode.ConnectTimeout]: [
    RuntimeErrorCode.ConnectTimeout,
    'The connection to the upstream (TCP and TLS) did not complete in time.',
  ],
  [EgressErrorCode.TlsUntrusted]: [
    RuntimeErrorCode.TlsUntrusted,
    "The upstream's certificate is not signed by a CA this server trusts. For a private CA, the operator adds it with NODE_EXTRA_CA_CERTS.",
  ],
  [EgressErrorCode.TlsHostnameMismatch]: [
    RuntimeErrorCode.TlsHostnameMismatch,
    "The upstream's certificate is not valid for its host name.",
  ],
  [EgressErrorCode.TlsFailed]: [
    RuntimeErrorCode.TlsFailed,
    'The TLS handshake with the upstream failed (expired certificate or no common protocol).',
  ],
  [EgressErrorCode.ConnectionFailed]: [RuntimeErrorCode.ConnectFailed, 'The connection to the upstream failed.'],
};

/** The codes of a connection that was never made: after the reply began, the connection was lost instead. */
export const CONNECT_CODES: ReadonlySet<RuntimeErrorCode> = new Set(Object.values(CONNECT_FAILURES).map(([code]) => code));

export function connectionLost(raw: unknown): RuntimeError {
  const mapped = toRuntimeError(raw);
  return CONNECT_CODES.has(mapped.code)
    ? new RuntimeError(RuntimeErrorCode.ConnectionLost, 'The connection to the upstream was lost mid-reply.')
    : mapped;
}

export function toRuntimeError(raw: unknown): RuntimeError {
  if (raw instanceof RuntimeError) return raw;
  if (raw instanceof CredentialsError && raw.code === CredentialsErrorCode.CredentialOriginNotAllowed) {
    return new RuntimeError(RuntimeErrorCode.EgressRefused, 'The credential may not be sent to this base_url.');
  }
  // One that does not open, is gone (deleted since the agent was read), or could not be read.
  if (raw instanceof CredentialsError || raw instanceof CommonError || isDatabaseUnavailable(raw)) {
    return new RuntimeError(RuntimeErrorCode.CredentialUnavailable, 'The credential for this llm entry could not be opened.');
  }
  // Errors while reading the body come straight from undici: give them the egress codes first.
  const error = toEgressError(raw);
  if (!(error instanceof EgressError)) return new RuntimeError(RuntimeErrorCode.ConnectFailed, 'The connection to the upstream failed.');
  switch (error.code) {
    case EgressErrorCode.InvalidUrl:
    case EgressErrorCode.HttpsRequired:
    case EgressErrorCode.PrivateHost:
    case EgressErrorCode.RedirectRefused:
      return new RuntimeError(RuntimeErrorCode.EgressRefused, `The egress guard refused the call (${error.code}).`);
    case EgressErrorCode.UnresolvableHost:
    case EgressErrorCode.ConnectionRefused:
    case EgressErrorCode.ConnectTimeout:
    case EgressErrorCode.TlsUntrusted:
    case EgressErrorCode.TlsHostnameMismatch:
    case EgressErrorCode.TlsFailed:
    case EgressErrorCode.ConnectionFailed: {
      const [code, message] = CONNECT_FAILURES[error.code]!;
      return new RuntimeError(code, message);
    }
    case EgressErrorCode.HeadersTimeout:
      return new RuntimeError(RuntimeErrorCode.FirstTokenTimeout, 'The upstream did not answer in time.');
    case EgressErrorCode.BodyTimeout:
      return new RuntimeError(RuntimeErrorCode.IdleTimeout, 'The upstream went silent mid-reply.');
    case EgressErrorCode.ResponseTooLarge:
      return new RuntimeError(RuntimeErrorCode.TooLarge, 'The upstream reply exceeded the size limit.');
    default:
      return unreachable(error.code);
  }
}

function unreachable(code: never): never {
  throw new Error(`unmapped egress code ${String(code)}`);
}

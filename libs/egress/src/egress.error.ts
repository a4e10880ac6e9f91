import { DomainError } from '#agentplane/errors';

/** Why an outbound call was not made or did not complete. Messages never carry addresses or bodies. */
export enum EgressErrorCode {
  /** The URL broke a parse-time rule (scheme, userinfo, query, port, name). */
  InvalidUrl = 'invalid_url',
  HttpsRequired = 'https_required',
  /** The host is, or resolved to, a non-public address. */
  PrivateHost = 'private_host',
  UnresolvableHost = 'unresolvable_host',
  /** The upstream answered 3xx; redirects are never followed. */
  RedirectRefused = 'redirect_refused',
  ResponseTooLarge = 'response_too_large',
  /** TCP and TLS together did not complete in time (a black hole, or a stalled handshake). */
  ConnectTimeout = 'connect_timeout',
  /** Nothing listens there: every address refused the connection. */
  ConnectionRefused = 'connection_refused',
  /** The certificate chain does not end at a CA this process trusts. */
  TlsUntrusted = 'tls_untrusted',
  /** A trusted certificate, but not for the host name asked for. */
  TlsHostnameMismatch = 'tls_hostname_mismatch',
  /** Any other TLS failure: expired or revoked certificate, no common protocol, an alert. */
  TlsFailed = 'tls_failed',
  HeadersTimeout = 'headers_timeout',
  BodyTimeout = 'body_timeout',
  /** Reset, closed, or any other transport error. */
  ConnectionFailed = 'connection_failed',
}

export class EgressError extends DomainError<EgressErrorCode> {
  constructor(code: EgressErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, undefined, options);
  }
}

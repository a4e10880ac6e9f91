import { DomainError } from '#agentplane/errors';

/**
 * Why a reply failed: the `code` of the stream's `error` event and of a `stream: false` problem
 * alike. The message is ours and safe to show: never an upstream body, header or key.
 */
export enum RuntimeErrorCode {
  /** The host name did not resolve (when called, not only when saved). */
  DnsFailed = 'upstream_dns_failed',
  /** Nothing listens at that host and port. */
  ConnectionRefused = 'upstream_connection_refused',
  /** TCP and TLS did not complete within the entry's connect timeout. */
  ConnectTimeout = 'upstream_connect_timeout',
  /** The certificate is not from a CA this server trusts (a private CA needs NODE_EXTRA_CA_CERTS). */
  TlsUntrusted = 'upstream_tls_untrusted',
  /** The certificate is not for the base_url's host name. */
  TlsHostnameMismatch = 'upstream_tls_hostname_mismatch',
  /** Any other TLS failure (expired certificate, no common protocol). */
  TlsFailed = 'upstream_tls_failed',
  /** Any other failure before the request was sent (reset, closed). */
  ConnectFailed = 'upstream_connect_failed',
  /** The connection broke after the reply had begun (reset, closed mid-body). */
  ConnectionLost = 'upstream_connection_lost',
  /** A non-2xx status; the status itself is in `upstream_status`. */
  Status = 'upstream_status',
  FirstTokenTimeout = 'upstream_timeout_first_token',
  IdleTimeout = 'upstream_idle_timeout',
  TotalTimeout = 'upstream_timeout_total',
  TooLarge = 'upstream_too_large',
  Malformed = 'upstream_malformed',
  /** The upstream reported an error inside the stream (`{"error": …}` or an `error` event). */
  StreamError = 'upstream_error',
  CredentialUnavailable = 'credential_unavailable',
  EgressRefused = 'egress_refused',
  /** The agent has no llm entries to answer with. */
  NoLlmConfigured = 'no_llm_configured',
}

export class RuntimeError extends DomainError<RuntimeErrorCode> {
  constructor(
    code: RuntimeErrorCode,
    message: string,
    /** For `Status`: the HTTP status the upstream answered. */
    readonly upstreamStatus?: number,
  ) {
    super(code, message);
  }
}

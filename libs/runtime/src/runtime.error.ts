import { DomainError } from '#agentplane/errors';

/**
 * Why a reply failed: the `code` of the stream's `error` event and of a `stream: false` problem
 * alike. The message is ours and safe to show: never an upstream body, header or key.
 */
export enum RuntimeErrorCode {
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

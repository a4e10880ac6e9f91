/**
 * Why an attempt at an upstream failed. Each ends the attempt with its own code (issue 6); the
 * message is ours and safe to show: never an upstream body, header or key.
 */
export enum UpstreamFailure {
  ConnectFailed = 'upstream_connect_failed',
  /** The connection broke after the reply had begun (reset, closed mid-body). */
  ConnectionLost = 'upstream_connection_lost',
  /** A non-2xx status; the code shown is `upstream_status_<nnn>`. */
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
}

export class UpstreamError extends Error {
  constructor(
    readonly failure: UpstreamFailure,
    message: string,
    /** For `Status`: the HTTP status the upstream answered. */
    readonly status?: number,
  ) {
    super(message);
    this.name = 'UpstreamError';
  }

  /** The code clients see, e.g. `upstream_status_503`. */
  get code(): string {
    return this.failure === UpstreamFailure.Status ? `upstream_status_${this.status ?? 0}` : this.failure;
  }
}

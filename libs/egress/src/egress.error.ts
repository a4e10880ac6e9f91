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
  ConnectTimeout = 'connect_timeout',
  HeadersTimeout = 'headers_timeout',
  BodyTimeout = 'body_timeout',
  /** Connection refused or reset, TLS failure, or any other transport error. */
  ConnectionFailed = 'connection_failed',
}

export class EgressError extends DomainError<EgressErrorCode> {
  constructor(code: EgressErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, undefined, options);
  }
}

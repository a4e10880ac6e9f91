import { DomainError } from '#agentplane/errors';

export enum EndpointsErrorCode {
  /** An endpoint has no key: none given, and none kept (a key is kept only for the same origin at the same position). */
  ApiKeyRequired = 'api_key_required',
  /** An endpoint names a credential whose allowed_origins do not include its base_url's origin. */
  CredentialOriginMismatch = 'credential_origin_mismatch',
}

export class EndpointsError extends DomainError<EndpointsErrorCode> {}

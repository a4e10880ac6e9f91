import { DomainError } from '#agentplane/errors';

export enum CredentialsErrorCode {
  /** A stored secret would reach an origin it was not given for: the caller must send it again. */
  ApiKeyRequired = 'api_key_required',
  CredentialInUse = 'credential_in_use',
  /** A credential may not be sent to the origin asked for. */
  CredentialOriginNotAllowed = 'credential_origin_not_allowed',
  /** A hint (`****abcd`) was sent back where a real secret belongs. */
  MaskedValueSubmitted = 'masked_value_submitted',
  /** A stored secret did not open: wrong or missing master key, or a damaged record. */
  CredentialUnavailable = 'credential_unavailable',
}

export class CredentialsError extends DomainError<CredentialsErrorCode> {}

/**
 * Every failure the product reports on purpose. The HTTP mapping lives in one exhaustive switch
 * (apps/api problem-details filter): adding a code without a mapping fails to compile.
 */
export enum ErrorCode {
  Unauthenticated = 'unauthenticated',
  NotFound = 'not_found',
  ValidationFailed = 'validation_failed',
  DatabaseUnavailable = 'database_unavailable',
  InvalidCursor = 'invalid_cursor',
  /** A hint (`****abcd`) was sent back where a real secret belongs. */
  MaskedValueSubmitted = 'masked_value_submitted',
  /** A stored secret would reach an origin it was not given for; the caller must resend it. */
  ApiKeyRequired = 'api_key_required',
  CredentialInUse = 'credential_in_use',
  /** A credential may not be sent to the origin asked for. */
  CredentialOriginNotAllowed = 'credential_origin_not_allowed',
  /** An llm entry names a credential whose allowed_origins do not include its base_url's origin. */
  CredentialOriginMismatch = 'credential_origin_mismatch',
  /** `If-Match` named a version of the resource that is no longer current. */
  PreconditionFailed = 'precondition_failed',
  /** An `Idempotency-Key` was sent again with a different request. */
  IdempotencyKeyReused = 'idempotency_key_reused',
  /** Every llm entry of the agent failed before answering (the detail names the last failure's code). */
  UpstreamFailed = 'upstream_failed',
  /** A stored secret did not open: wrong or missing master key, or a damaged record. */
  CredentialUnavailable = 'credential_unavailable',
  /** A reply was asked of an agent that has no llm entries to answer it. */
  NoLlmConfigured = 'no_llm_configured',
}

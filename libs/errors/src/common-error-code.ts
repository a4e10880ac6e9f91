/**
 * Failures any module can report. Each module has its own enum beside its code (auth, agents,
 * credentials, egress, runtime); the HTTP API maps the union of them all in one place, where a
 * code without a status does not compile.
 */
export enum CommonErrorCode {
  NotFound = 'not_found',
  ValidationFailed = 'validation_failed',
  InvalidCursor = 'invalid_cursor',
  /** `If-Match` named a version of the resource that is no longer current. */
  PreconditionFailed = 'precondition_failed',
  /** An `Idempotency-Key` was sent again with a different request. */
  IdempotencyKeyReused = 'idempotency_key_reused',
  /** An `Idempotency-Key` whose first request is still being processed. */
  IdempotencyKeyInProgress = 'idempotency_key_in_progress',
  DatabaseUnavailable = 'database_unavailable',
  /** Anything unexpected: the log has the rest, under the request id. */
  InternalError = 'internal_error',
}

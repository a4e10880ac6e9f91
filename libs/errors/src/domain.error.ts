import { ErrorCode } from './error-code.js';

/** One invalid input: `path` is like `llm[0].base_url`, `code` is stable for clients. */
export interface FieldError {
  readonly path: string;
  readonly code: string;
  readonly message: string;
}

/**
 * An expected failure with a stable code. `detail` is shown to the caller, so it must never hold
 * a secret, a submitted value or an upstream body.
 */
export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    readonly detail?: string,
    readonly errors?: readonly FieldError[],
  ) {
    super(detail ?? code);
    this.name = 'DomainError';
  }

  static unauthenticated(): DomainError {
    // One message for missing, malformed, unknown and revoked keys: no hint which one it was.
    return new DomainError(ErrorCode.Unauthenticated, 'A valid API key is required.');
  }

  static notFound(resource: string): DomainError {
    return new DomainError(ErrorCode.NotFound, `${resource} not found.`);
  }

  static validation(errors: readonly FieldError[]): DomainError {
    return new DomainError(ErrorCode.ValidationFailed, 'The request is invalid.', errors);
  }
}

import { CommonErrorCode } from './common-error-code.js';

/** One invalid input: `path` is like `llm[0].base_url`, `code` is stable for clients. */
export interface FieldError {
  readonly path: string;
  readonly code: string;
  readonly message: string;
}

/**
 * An expected failure with a stable code from one module's enum. `detail` is shown to the caller,
 * so it must never hold a secret, a submitted value or an upstream body. Modules subclass it with
 * their own code enum (AgentsError, EgressError, …).
 */
export class DomainError<C extends string = string> extends Error {
  constructor(
    readonly code: C,
    readonly detail?: string,
    readonly errors?: readonly FieldError[],
    options?: { cause?: unknown },
  ) {
    super(detail ?? code, options);
    this.name = new.target.name;
  }

  static notFound(resource: string): CommonError {
    return new CommonError(CommonErrorCode.NotFound, `${resource} not found.`);
  }

  static validation(errors: readonly FieldError[]): CommonError {
    return new CommonError(CommonErrorCode.ValidationFailed, 'The request is invalid.', errors);
  }

  static preconditionFailed(resource: string): CommonError {
    return new CommonError(
      CommonErrorCode.PreconditionFailed,
      `The ${resource} changed since that ETag: read it again and reapply the change.`,
    );
  }
}

export class CommonError extends DomainError<CommonErrorCode> {}

import { DomainError } from '#agentplane/errors';

export enum AuthErrorCode {
  /** Missing, malformed, unknown or revoked API key: one code, so a caller learns nothing of which. */
  Unauthenticated = 'unauthenticated',
}

export class AuthError extends DomainError<AuthErrorCode> {
  static unauthenticated(): AuthError {
    return new AuthError(AuthErrorCode.Unauthenticated, 'A valid API key is required.');
  }
}

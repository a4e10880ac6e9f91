import { DomainError } from '#agentplane/errors';

export enum AuthErrorCode {
  /** Missing, malformed, unknown or revoked API key: one code, so a caller learns nothing of which. */
  Unauthenticated = 'unauthenticated',
  /** Revoking it would leave the organization without a key to call the API with. */
  LastActiveApiKey = 'last_active_api_key',
}

export class AuthError extends DomainError<AuthErrorCode> {
  static unauthenticated(): AuthError {
    return new AuthError(AuthErrorCode.Unauthenticated, 'A valid API key is required.');
  }

  static lastActiveApiKey(): AuthError {
    return new AuthError(
      AuthErrorCode.LastActiveApiKey,
      'This is the organization’s last active API key: create another before revoking it (the operator CLI can still revoke it).',
    );
  }
}

import type { OrgId } from '@agentplane/auth';
import type { SealedSecret } from './secret-context.js';

/** A credential as the product shows it: never the secret, never its sealed bytes. */
export interface Credential {
  readonly id: string;
  readonly orgId: OrgId;
  readonly name: string;
  readonly apiKeyHint: string;
  readonly allowedOrigins: readonly string[];
  readonly createdAt: Date;
  readonly updatedAt: Date;
  readonly lastUsedAt: Date | null;
}

/** A credential with its sealed secret: only inside this lib. */
export interface SealedCredential extends Credential {
  readonly sealed: SealedSecret;
}

export interface CredentialPage {
  readonly data: readonly Credential[];
  readonly hasMore: boolean;
  readonly nextCursor: string | null;
}

/** Which secret of a credential row a sealed record belongs to (part of its associated data). */
export const CREDENTIAL_SECRET_FIELD = 'api_key';

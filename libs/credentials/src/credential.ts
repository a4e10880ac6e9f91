import type { OrgId } from '#agentplane/auth';
import type { SealedSecret } from '#agentplane/keys';

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

/** Which secret of a credential row a sealed record belongs to (part of its associated data). */
export const CREDENTIAL_SECRET_FIELD = 'api_key';

const sealedOf = new WeakMap<LoadedCredential, SealedCredential>();

/**
 * A credential read in the same query as what uses it (an agent's llm entries, for a reply), so
 * the reply path makes one database round trip fewer. Opaque outside this lib: only
 * CredentialsService.withSecret opens it, under the same origin check as a credential it loads.
 */
export class LoadedCredential {
  private constructor(readonly id: string) {}

  static of(credential: SealedCredential): LoadedCredential {
    const loaded = new LoadedCredential(credential.id);
    sealedOf.set(loaded, credential);
    return loaded;
  }
}

/** The sealed credential behind a LoadedCredential (this lib only: not exported by index.ts). */
export function sealedCredentialOf(loaded: LoadedCredential): SealedCredential {
  const sealed = sealedOf.get(loaded);
  if (sealed === undefined) throw new TypeError('not a credential this lib loaded');
  return sealed;
}

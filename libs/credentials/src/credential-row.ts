import type { Prisma } from '#agentplane/db';
import type { SealedSecret } from '#agentplane/keys';
import { asOrgId } from '#agentplane/auth';
import { type Credential, LoadedCredential, type SealedCredential } from './credential.js';

/** The columns a credential is shown with: never the sealed secret. */
export const CREDENTIAL_VIEW = {
  id: true,
  orgId: true,
  name: true,
  apiKeyHint: true,
  allowedOrigins: true,
  createdAt: true,
  updatedAt: true,
  lastUsedAt: true,
} as const satisfies Prisma.CredentialSelect;

/**
 * The columns of a credential with its sealed secret. Another lib selects these on a relation to
 * a credential (an agent read for a reply, in one query) and hands the row to `loadedCredential`.
 */
export const CREDENTIAL_SEALED = {
  ...CREDENTIAL_VIEW,
  secretFormat: true,
  masterKeyId: true,
  wrappedKey: true,
  nonce: true,
  ciphertext: true,
} as const satisfies Prisma.CredentialSelect;

type ViewRow = Prisma.CredentialGetPayload<{ select: typeof CREDENTIAL_VIEW }>;
export type SealedCredentialRow = Prisma.CredentialGetPayload<{ select: typeof CREDENTIAL_SEALED }>;

/** A credential read with what uses it, opaque until CredentialsService.withSecret opens it. */
export function loadedCredential(row: SealedCredentialRow): LoadedCredential {
  return LoadedCredential.of(toSealedCredential(row));
}

export function toCredential(row: ViewRow): Credential {
  return {
    id: row.id,
    orgId: asOrgId(row.orgId),
    name: row.name,
    apiKeyHint: row.apiKeyHint,
    allowedOrigins: row.allowedOrigins,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    lastUsedAt: row.lastUsedAt,
  };
}

export function toSealedCredential(row: SealedCredentialRow): SealedCredential {
  return { ...toCredential(row), sealed: sealedOf(row) };
}

/** The sealed secret of a row read with its sealed columns. */
export function sealedOf(
  row: Pick<SealedCredentialRow, 'secretFormat' | 'masterKeyId' | 'wrappedKey' | 'nonce' | 'ciphertext'>,
): SealedSecret {
  return {
    formatVersion: row.secretFormat,
    masterKeyId: row.masterKeyId,
    wrappedKey: row.wrappedKey,
    nonce: row.nonce,
    ciphertext: row.ciphertext,
  };
}

/** The sealed secret as columns to write. */
export function sealedColumns(sealed: SealedSecret) {
  return {
    secretFormat: sealed.formatVersion,
    masterKeyId: sealed.masterKeyId,
    wrappedKey: sealed.wrappedKey,
    nonce: sealed.nonce,
    ciphertext: sealed.ciphertext,
  };
}

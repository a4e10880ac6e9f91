export { CredentialsModule } from './credentials.module.js';
export {
  CredentialsService,
  maskedKeyError,
  maskedKeyField,
  type CreateCredentialInput,
  type CredentialRefs,
  type OwnedKeyInput,
  type ReplaceCredentialInput,
} from './credentials.service.js';
export { CredentialsError, CredentialsErrorCode } from './credentials.error.js';
export type { CredentialReference, KeyOwner } from './credential.repository.js';
export { CREDENTIAL_SEALED, loadedCredential, type SealedCredentialRow } from './credential-row.js';
export type { Credential, LoadedCredential } from './credential.js';
export { isOriginAllowed, normalizeOrigin } from './origins.js';

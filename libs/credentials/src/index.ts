export { CredentialsModule } from './credentials.module.js';
export {
  CredentialsService,
  type CreateCredentialInput,
  type ReplaceCredentialInput,
} from './credentials.service.js';
export {
  InstancesLackActiveKeyError,
  KeyRotationService,
  type MasterKeyUsage,
  type RewrapReport,
  type VerifyReport,
} from './key-rotation.service.js';
export { CredentialRepository, type CredentialReference, type NewCredential } from './credential.repository.js';
export { Fingerprinter, type Fingerprint } from './fingerprinter.js';
export type { MasterKeyHolder } from './master-key-holder.repository.js';
export type { Credential, CredentialPage, LoadedCredential } from './credential.js';
export { apiKeyHint, looksMasked } from './masking.js';
export { isOriginAllowed, normalizeOrigin } from './origins.js';
export { MasterKeyFile, formatMasterKey, generateMasterKey } from './master-key-file.js';
export { MasterKeyRing } from './master-key-ring.js';
export { SecretSealer, credentialUnavailable } from './secret-sealer.js';
export { Sodium } from './sodium.js';
export type { SealedSecret, SecretContext } from './secret-context.js';

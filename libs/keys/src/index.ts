export { KeysModule } from './keys.module.js';
export { SecretSealer, SecretUnavailableError } from './secret-sealer.js';
export type { SealedSecret, SecretContext } from './secret-context.js';
export { SealedRecordStores, type RewrapBatch, type SealedRecord, type SealedRecordStore } from './sealed-record-store.js';
export { Fingerprinter, type Fingerprint } from './fingerprinter.js';
export { secretHint, looksMasked } from './masking.js';
export {
  InstancesLackActiveKeyError,
  KeyRotationService,
  type MasterKeyUsage,
  type RewrapReport,
  type VerifyReport,
} from './key-rotation.service.js';
export type { MasterKeyHolder } from './master-key-holder.repository.js';
export { MasterKeyFile, formatMasterKey, generateMasterKey } from './master-key-file.js';
export { MasterKeyRing } from './master-key-ring.js';
export { Sodium } from './sodium.js';

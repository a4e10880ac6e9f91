import { type DynamicModule, Module } from '@nestjs/common';
import { Clock } from '#agentplane/clock';
import { Fingerprinter } from './fingerprinter.js';
import { KeyRotationService } from './key-rotation.service.js';
import { MasterKeyCheckRepository } from './master-key-check.repository.js';
import { MasterKeyCoverage } from './master-key-coverage.js';
import { MasterKeyHolderRepository } from './master-key-holder.repository.js';
import { MasterKeyPresence } from './master-key-presence.js';
import { MasterKeyRing } from './master-key-ring.js';
import { masterKeyRingProvider } from './master-key-ring.provider.js';
import { MasterKeyVerifier } from './master-key-verifier.js';
import { SealedRecordStores } from './sealed-record-store.js';
import { SecretSealer } from './secret-sealer.js';
import { Sodium } from './sodium.js';

/**
 * Key management: the master-key ring, sealing any secret for any owner, keyed fingerprints, and
 * rotation over every registered store of sealed records. Needs ConfigModule, LoggingModule, DbModule.
 */
@Module({
  providers: [
    { provide: Sodium, useFactory: () => Sodium.load() },
    masterKeyRingProvider,
    SecretSealer,
    Fingerprinter,
    SealedRecordStores,
    MasterKeyCheckRepository,
    MasterKeyHolderRepository,
    MasterKeyVerifier,
    KeyRotationService,
    Clock,
  ],
  exports: [SecretSealer, Fingerprinter, SealedRecordStores, KeyRotationService, MasterKeyRing],
})
export class KeysModule {
  /**
   * For a process that serves traffic: it refuses to start without every key that records name
   * (MasterKeyCoverage) and announces which keys it holds (MasterKeyPresence). Tools such as the
   * CLI import the plain module. Either way there is one KeysModule instance.
   */
  static forServing(): DynamicModule {
    return { module: KeysServingModule, imports: [KeysModule], exports: [KeysModule] };
  }
}

@Module({ imports: [KeysModule], providers: [MasterKeyHolderRepository, MasterKeyCoverage, MasterKeyPresence] })
class KeysServingModule {}

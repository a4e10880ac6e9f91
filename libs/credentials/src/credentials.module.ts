import { type DynamicModule, Module } from '@nestjs/common';
import { Clock } from '@agentplane/clock';
import { CredentialRepository } from './credential.repository.js';
import { CredentialsService } from './credentials.service.js';
import { Fingerprinter } from './fingerprinter.js';
import { KeyRotationService } from './key-rotation.service.js';
import { MasterKeyCheckRepository } from './master-key-check.repository.js';
import { MasterKeyHolderRepository } from './master-key-holder.repository.js';
import { MasterKeyCoverage } from './master-key-coverage.js';
import { MasterKeyPresence } from './master-key-presence.js';
import { MasterKeyRing } from './master-key-ring.js';
import { masterKeyRingProvider } from './master-key-ring.provider.js';
import { MasterKeyVerifier } from './master-key-verifier.js';
import { SecretSealer } from './secret-sealer.js';
import { Sodium } from './sodium.js';

/** Credentials, their sealing and the master-key ring. Needs ConfigModule, LoggingModule, DbModule. */
@Module({
  providers: [
    { provide: Sodium, useFactory: () => Sodium.load() },
    masterKeyRingProvider,
    SecretSealer,
    CredentialRepository,
    MasterKeyCheckRepository,
    MasterKeyHolderRepository,
    MasterKeyVerifier,
    CredentialsService,
    KeyRotationService,
    Fingerprinter,
    Clock,
  ],
  exports: [
    CredentialsService,
    KeyRotationService,
    CredentialRepository,
    Fingerprinter,
    // For CredentialsServingModule only (not in the lib's index).
    MasterKeyRing,
    MasterKeyHolderRepository,
  ],
})
export class CredentialsModule {
  /**
   * For a process that serves traffic: it refuses to start without every key that records name
   * (MasterKeyCoverage) and announces which keys it holds (MasterKeyPresence). Tools such as the
   * CLI import the plain module. Either way there is one CredentialsModule instance, which other
   * modules (agents) import too.
   */
  static forServing(): DynamicModule {
    return { module: CredentialsServingModule, imports: [CredentialsModule], exports: [CredentialsModule] };
  }
}

@Module({ providers: [MasterKeyCoverage, MasterKeyPresence] })
class CredentialsServingModule {}

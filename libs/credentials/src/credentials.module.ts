import { Module } from '@nestjs/common';
import { Clock } from '@agentplane/clock';
import { CredentialRepository } from './credential.repository.js';
import { CredentialsService } from './credentials.service.js';
import { KeyRotationService } from './key-rotation.service.js';
import { MasterKeyCheckRepository } from './master-key-check.repository.js';
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
    MasterKeyVerifier,
    CredentialsService,
    KeyRotationService,
    Clock,
  ],
  exports: [CredentialsService, KeyRotationService],
})
export class CredentialsModule {}

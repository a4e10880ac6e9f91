import { Module, type OnModuleInit } from '@nestjs/common';
import { Clock } from '#agentplane/clock';
import { KeysModule, SealedRecordStores } from '#agentplane/keys';
import { CredentialRepository } from './credential.repository.js';
import { CredentialsService } from './credentials.service.js';

/** Credentials: org secrets bound to origins, and keys agents own. Needs ConfigModule, LoggingModule, DbModule. */
@Module({
  imports: [KeysModule],
  providers: [CredentialRepository, CredentialsService, Clock],
  exports: [CredentialsService],
})
export class CredentialsModule implements OnModuleInit {
  constructor(
    private readonly stores: SealedRecordStores,
    private readonly credentials: CredentialRepository,
  ) {}

  /** Key management rotates and checks the secrets credentials hold. */
  onModuleInit(): void {
    this.stores.register(this.credentials);
  }
}

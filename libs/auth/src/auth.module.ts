import { Module } from '@nestjs/common';
import { Clock } from '#agentplane/clock';
import { ApiKeyCrypto } from './api-key-crypto.js';
import { ApiKeyGuard } from './api-key.guard.js';
import { ApiKeyRepository } from './api-key.repository.js';
import { ApiKeyService } from './api-key.service.js';
import { OrganizationRepository } from './organization.repository.js';
import { OrganizationService } from './organization.service.js';

/** API keys and organizations. Needs DbModule. The app registers ApiKeyGuard as APP_GUARD. */
@Module({
  providers: [ApiKeyCrypto, ApiKeyRepository, OrganizationRepository, ApiKeyService, OrganizationService, ApiKeyGuard, Clock],
  exports: [ApiKeyService, OrganizationService, ApiKeyGuard],
})
export class AuthModule {}

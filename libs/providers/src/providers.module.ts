import { Module } from '@nestjs/common';
import { Clock } from '#agentplane/clock';
import { EndpointsModule } from '#agentplane/endpoints';
import { IdempotencyModule } from '#agentplane/idempotency';
import { ProviderRepository } from './provider.repository.js';
import { ProvidersService } from './providers.service.js';

/** Named LLM endpoints that agents use by id. Needs ConfigModule, LoggingModule, DbModule. */
@Module({
  imports: [EndpointsModule, IdempotencyModule],
  providers: [ProviderRepository, ProvidersService, Clock],
  exports: [ProvidersService],
})
export class ProvidersModule {}

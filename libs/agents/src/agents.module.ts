import { Module } from '@nestjs/common';
import { Clock } from '#agentplane/clock';
import { EndpointsModule } from '#agentplane/endpoints';
import { IdempotencyModule } from '#agentplane/idempotency';
import { ProvidersModule } from '#agentplane/providers';
import { AgentRepository } from './agent.repository.js';
import { AgentsService } from './agents.service.js';

/** Agents and their llm entries. Needs ConfigModule, LoggingModule, DbModule. */
@Module({
  imports: [EndpointsModule, ProvidersModule, IdempotencyModule],
  providers: [AgentRepository, AgentsService, Clock],
  exports: [AgentsService],
})
export class AgentsModule {}

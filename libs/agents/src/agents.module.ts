import { Module } from '@nestjs/common';
import { Clock } from '#agentplane/clock';
import { CredentialsModule } from '#agentplane/credentials';
import { EgressModule } from '#agentplane/egress';
import { IdempotencyModule } from '#agentplane/idempotency';
import { AgentRepository } from './agent.repository.js';
import { AgentsService } from './agents.service.js';

/** Agents and their llm entries. Needs ConfigModule, LoggingModule, DbModule. */
@Module({
  imports: [CredentialsModule, EgressModule, IdempotencyModule],
  providers: [AgentRepository, AgentsService, Clock],
  exports: [AgentsService],
})
export class AgentsModule {}

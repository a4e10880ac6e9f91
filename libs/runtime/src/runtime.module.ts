import { Module } from '@nestjs/common';
import { AgentsModule } from '#agentplane/agents';
import { Clock } from '#agentplane/clock';
import { CredentialsModule } from '#agentplane/credentials';
import { EgressModule } from '#agentplane/egress';
import { ProvidersModule } from '#agentplane/providers';
import { ConnectionTestService } from './connection-test.service.js';
import { ReplyService } from './reply.service.js';

/**
 * Replies streamed through an agent's llm entries, and tests of those entries. Needs ConfigModule,
 * LoggingModule, DbModule, and a ReplyObserver from a global module.
 */
@Module({
  imports: [AgentsModule, ProvidersModule, CredentialsModule, EgressModule],
  providers: [ReplyService, ConnectionTestService, Clock],
  exports: [ReplyService, ConnectionTestService],
})
export class RuntimeModule {}

import { Module } from '@nestjs/common';
import { AgentsModule } from '#agentplane/agents';
import { Clock } from '#agentplane/clock';
import { CredentialsModule } from '#agentplane/credentials';
import { EgressModule } from '#agentplane/egress';
import { ReplyService } from './reply.service.js';

/** Replies streamed through an agent's llm entries. Needs ConfigModule, LoggingModule, DbModule. */
@Module({
  imports: [AgentsModule, CredentialsModule, EgressModule],
  providers: [ReplyService, Clock],
  exports: [ReplyService],
})
export class RuntimeModule {}

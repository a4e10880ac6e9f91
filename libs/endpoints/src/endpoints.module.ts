import { Module } from '@nestjs/common';
import { CredentialsModule } from '#agentplane/credentials';
import { EgressModule } from '#agentplane/egress';
import { EndpointsService } from './endpoints.service.js';

/** The rules for LLM endpoints' locations and secrets, for agents and providers alike. */
@Module({
  imports: [CredentialsModule, EgressModule],
  providers: [EndpointsService],
  exports: [EndpointsService],
})
export class EndpointsModule {}

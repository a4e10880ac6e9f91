import { Module } from '@nestjs/common';
import { EgressClient } from './egress.client.js';
import { EgressPolicy } from './egress-policy.js';
import { HostResolver, SystemHostResolver } from './host-resolver.js';

/** Outbound calls and the base_url policy. Needs ConfigModule and LoggingModule. */
@Module({
  providers: [{ provide: HostResolver, useClass: SystemHostResolver }, EgressPolicy, EgressClient],
  exports: [EgressPolicy, EgressClient],
})
export class EgressModule {}

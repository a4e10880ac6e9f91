import { Global, Module } from '@nestjs/common';
import { MetricsModule } from '#agentplane/metrics';
import { RecordsModule } from '#agentplane/records';
import { ReplyObserver } from '#agentplane/runtime';
import { ReplyTelemetry } from './reply-telemetry.js';

/** Where reply summaries go: global, so the runtime gets its observer without knowing who listens. */
@Global()
@Module({
  imports: [MetricsModule, RecordsModule],
  providers: [{ provide: ReplyObserver, useClass: ReplyTelemetry }],
  exports: [ReplyObserver, MetricsModule],
})
export class TelemetryModule {}

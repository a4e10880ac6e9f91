import { Global, Module } from '@nestjs/common';
import { IgnoreReplies, ReplyObserver } from '#agentplane/runtime';

/** Where reply summaries go: global, so the runtime gets its observer without knowing who listens. */
@Global()
@Module({
  providers: [{ provide: ReplyObserver, useClass: IgnoreReplies }],
  exports: [ReplyObserver],
})
export class TelemetryModule {}

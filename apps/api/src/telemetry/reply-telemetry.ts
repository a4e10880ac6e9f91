import { Injectable } from '@nestjs/common';
import { Metrics } from '#agentplane/metrics';
import { ReplyRecorder } from '#agentplane/records';
import { ReplyObserver, type ReplySummary } from '#agentplane/runtime';

/** Where every reply's summary goes: the metrics and the reply records. Returns at once, as the runtime requires. */
@Injectable()
export class ReplyTelemetry extends ReplyObserver {
  constructor(
    private readonly metrics: Metrics,
    private readonly recorder: ReplyRecorder,
  ) {
    super();
    metrics.watchLostRecords(() => recorder.dropped + recorder.failed);
  }

  replyStarted(): void {
    this.metrics.replyStarted();
  }

  replyEnded(summary: ReplySummary): void {
    this.metrics.replyEnded(summary);
    this.recorder.record(summary);
  }
}

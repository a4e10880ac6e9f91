import { Injectable } from '@nestjs/common';
import { Metrics } from '#agentplane/metrics';
import { ReplyObserver, type ReplySummary } from '#agentplane/runtime';

/** Where every reply's summary goes: the metrics. */
@Injectable()
export class ReplyTelemetry extends ReplyObserver {
  constructor(private readonly metrics: Metrics) {
    super();
  }

  replyStarted(): void {
    this.metrics.replyStarted();
  }

  replyEnded(summary: ReplySummary): void {
    this.metrics.replyEnded(summary);
  }
}

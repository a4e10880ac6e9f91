import { Injectable } from '@nestjs/common';
import { ReplyRecorder } from '#agentplane/records';
import { ReplyObserver, type ReplySummary } from '#agentplane/runtime';

/** Where the runtime's reply summaries go: the reply records. Returns at once, as the runtime requires. */
@Injectable()
export class ReplyTelemetry extends ReplyObserver {
  constructor(private readonly recorder: ReplyRecorder) {
    super();
  }

  replyStarted(): void {}

  replyEnded(summary: ReplySummary): void {
    this.recorder.record(summary);
  }
}

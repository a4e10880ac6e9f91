import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy, Optional } from '@nestjs/common';
import { LOGGER, type Logger } from '#agentplane/logging';
import type { ReplySummary } from '#agentplane/runtime';
import { ReplyRecordRepository } from './reply-record.repository.js';

export interface RecorderOptions {
  /** Summaries held while they wait to be written; past it, new ones are dropped. */
  readonly capacity: number;
  /** Summaries per INSERT; a queue this long is written at once, without waiting for the timer. */
  readonly batchSize: number;
  /** How often the queue is written when it stays shorter than a batch. */
  readonly flushEveryMs: number;
  /** How long shutdown waits for the last writes. */
  readonly shutdownWaitMs: number;
}

export const DEFAULT_RECORDER_OPTIONS: RecorderOptions = { capacity: 10_000, batchSize: 500, flushEveryMs: 250, shutdownWaitMs: 10_000 };

/** Overrides of DEFAULT_RECORDER_OPTIONS (tests, benchmarks). */
export const RECORDER_OPTIONS = Symbol('RECORDER_OPTIONS');

/**
 * Turns reply summaries into reply records off the request path. `record` is called as each reply
 * ends: it only appends to a bounded in-memory queue, and when the queue is full it drops the
 * summary and counts it, so a slow or unreachable database never slows a reply nor grows memory
 * without bound. The queue is written in batches (one INSERT each) from a timer, or as soon as a
 * batch is waiting. A batch whose write fails is dropped and counted, not retried: a database
 * that is down would otherwise fill the queue with retries and drop newer records instead. What is
 * queued at shutdown is written before the database closes (this module is destroyed before the
 * global DbModule).
 */
@Injectable()
export class ReplyRecorder implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly options: RecorderOptions;
  private readonly queue: ReplySummary[] = [];
  private droppedCount = 0;
  private failedCount = 0;
  private draining: Promise<void> | undefined;
  /** The size of the batch being written. */
  private writing = 0;
  private batchDue = false;
  private closed = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly records: ReplyRecordRepository,
    @Inject(LOGGER) private readonly logger: Logger,
    @Optional() @Inject(RECORDER_OPTIONS) options?: Partial<RecorderOptions>,
  ) {
    this.options = { ...DEFAULT_RECORDER_OPTIONS, ...options };
  }

  /**
   * Queues a summary to be written; false when it was dropped (queue full, or shutting down).
   * Never waits and never throws.
   */
  record(summary: ReplySummary): boolean {
    if (this.closed || this.queue.length >= this.options.capacity) {
      this.droppedCount++;
      return false;
    }
    this.queue.push(summary);
    if (this.queue.length >= this.options.batchSize && !this.batchDue) {
      // Written in a task of its own: building the INSERT is not the reply's work.
      this.batchDue = true;
      setImmediate(() => {
        this.batchDue = false;
        void this.flush();
      });
    }
    return true;
  }

  /** Summaries dropped unwritten because the queue was full or the process was shutting down. */
  get dropped(): number {
    return this.droppedCount;
  }

  /** Summaries lost because the write of their batch failed. */
  get failed(): number {
    return this.failedCount;
  }

  /** Summaries waiting to be written. */
  get queued(): number {
    return this.queue.length;
  }

  /** Writes everything queued, a batch at a time; calls made meanwhile share the one drain. Never rejects. */
  flush(): Promise<void> {
    this.draining ??= this.drain().finally(() => (this.draining = undefined));
    return this.draining;
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.flush(), this.options.flushEveryMs);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    // Bounded: a database that stopped answering must not hold the process open.
    const flushed = await Promise.race([
      this.flush().then(() => true),
      new Promise<boolean>((resolve) => setTimeout(resolve, this.options.shutdownWaitMs, false).unref()),
    ]);
    if (!flushed) this.logger.warn({ records: this.writing + this.queue.length }, 'reply records still unwritten at shutdown');
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.options.batchSize);
      this.writing = batch.length;
      try {
        await this.records.insert(batch);
      } catch (error) {
        this.failedCount += batch.length;
        // The count and the cause only: the records themselves stay out of the logs.
        this.logger.warn({ err: error, records: batch.length }, 'could not write reply records; they are dropped');
      } finally {
        this.writing = 0;
      }
    }
  }
}

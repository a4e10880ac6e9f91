import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { LOGGER, type Logger } from '#agentplane/logging';
import { RecordsService } from './records.service.js';

const PRUNE_EVERY_MS = 10 * 60 * 1000;

/**
 * Prunes reply records past their retention on a schedule, in every serving instance (deleting
 * twice is harmless), so the table holds AGENTPLANE_RECORD_RETENTION_DAYS of replies and no more.
 */
@Injectable()
export class RecordPruner implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly records: RecordsService,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.prune(), PRUNE_EVERY_MS);
    this.timer.unref();
    void this.prune();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  /** One pruning run; returns how many records went. */
  async prune(): Promise<number> {
    try {
      const deleted = await this.records.prune();
      if (deleted > 0) this.logger.info({ deleted }, 'reply records past their retention pruned');
      return deleted;
    } catch (error) {
      // The next run tries again; serving does not depend on it.
      this.logger.warn({ err: error }, 'could not prune reply records');
      return 0;
    }
  }
}

import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { LOGGER, type Logger } from '#agentplane/logging';
import { IdempotencyRepository } from './idempotency.repository.js';
import { IDEMPOTENCY_TTL_SECONDS } from './idempotency.service.js';

const PURGE_EVERY_MS = 10 * 60 * 1000;
const PURGE_BATCH = 1_000;

/**
 * Deletes expired Idempotency-Key records on a schedule, in every serving instance (deleting
 * twice is harmless), so an organization that stops sending keys does not keep its old ones.
 */
@Injectable()
export class IdempotencyPurger implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly records: IdempotencyRepository,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.purge(), PURGE_EVERY_MS);
    this.timer.unref();
    void this.purge();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  /** Deletes every expired record, a batch per statement; returns how many went. */
  async purge(): Promise<number> {
    let total = 0;
    try {
      for (let deleted = PURGE_BATCH; deleted === PURGE_BATCH; total += deleted) {
        deleted = await this.records.purgeExpired(IDEMPOTENCY_TTL_SECONDS, PURGE_BATCH);
      }
      if (total > 0) this.logger.info({ deleted: total }, 'expired idempotency keys purged');
    } catch (error) {
      // The next run tries again; serving does not depend on it.
      this.logger.warn({ err: error }, 'could not purge expired idempotency keys');
    }
    return total;
  }
}

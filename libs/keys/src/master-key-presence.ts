import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { LOGGER, type Logger } from '#agentplane/logging';
import { MasterKeyCoverage } from './master-key-coverage.js';
import { type MasterKeyHolder, MasterKeyHolderRepository } from './master-key-holder.repository.js';
import { MasterKeyRing } from './master-key-ring.js';

/** How often a serving process refreshes its row. */
export const HOLDER_HEARTBEAT_SECONDS = 10;
/** A holder not seen for this long is treated as gone (three missed heartbeats). */
export const HOLDER_LIVE_SECONDS = 3 * HOLDER_HEARTBEAT_SECONDS;
const HOLDER_FORGET_SECONDS = 24 * 60 * 60;

/**
 * Publishes which master keys this serving process holds, so `keys rewrap` can refuse to move
 * records to a key some live instance cannot open yet, and warns at start when instances
 * disagree (one seals with a key another does not hold). Only the API registers it: the CLI is
 * not a holder.
 */
@Injectable()
export class MasterKeyPresence implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly self: MasterKeyHolder;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly holders: MasterKeyHolderRepository,
    private readonly coverage: MasterKeyCoverage,
    ring: MasterKeyRing,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.self = { instanceId: randomUUID(), hostname: hostname(), pid: process.pid, keyIds: ring.ids, activeKeyId: ring.activeId };
  }

  async onApplicationBootstrap(): Promise<void> {
    // Bootstrap, not module init: every lib that stores secrets has registered its store by now.
    await this.coverage.assertCovered();
    await this.holders.announce(this.self, HOLDER_FORGET_SECONDS);
    this.warnAboutDisagreement(await this.holders.live(HOLDER_LIVE_SECONDS));
    this.timer = setInterval(() => void this.heartbeat(), HOLDER_HEARTBEAT_SECONDS * 1000);
    this.timer.unref();
  }

  /** Before, not on, shutdown: the database connection closes in the shutdown hooks. */
  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    try {
      await this.holders.withdraw(this.self.instanceId);
    } catch (error) {
      // The row goes stale on its own; shutdown must not fail over it.
      this.logger.warn({ err: error }, 'could not withdraw this instance from master_key_holders');
    }
  }

  private async heartbeat(): Promise<void> {
    try {
      if (!(await this.holders.touch(this.self.instanceId))) await this.holders.announce(this.self, HOLDER_FORGET_SECONDS);
    } catch (error) {
      this.logger.warn({ err: error }, 'master-key heartbeat failed');
    }
  }

  private warnAboutDisagreement(live: readonly MasterKeyHolder[]): void {
    for (const other of live) {
      if (other.instanceId === this.self.instanceId) continue;
      const where = { instance: other.instanceId, hostname: other.hostname, pid: other.pid };
      if (!other.keyIds.includes(this.self.activeKeyId)) {
        this.logger.warn(
          { ...where, master_key_id: this.self.activeKeyId },
          'another instance does not hold the master key this one seals with: what this instance stores will not open there until it restarts with that key',
        );
      }
      if (!this.self.keyIds.includes(other.activeKeyId)) {
        this.logger.warn(
          { ...where, master_key_id: other.activeKeyId },
          'another instance seals with a master key this one does not hold: what it stores will not open here',
        );
      }
    }
  }
}

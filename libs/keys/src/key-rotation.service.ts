import { Inject, Injectable } from '@nestjs/common';
import { Clock } from '#agentplane/clock';
import { UnitOfWork } from '#agentplane/db';
import { LOGGER, type Logger } from '#agentplane/logging';
import { type MasterKeyHolder, MasterKeyHolderRepository } from './master-key-holder.repository.js';
import { HOLDER_LIVE_SECONDS } from './master-key-presence.js';
import { MasterKeyRing } from './master-key-ring.js';
import { SealedRecordStores } from './sealed-record-store.js';
import { SecretSealer } from './secret-sealer.js';

/** A pass that ends with rows still locked by another process waits and tries again, this often. */
const REWRAP_MAX_PASSES = 5;
const REWRAP_PASS_PAUSE_MS = 250;
// A batch of a thousand updates on a slow disk outlasts the default transaction time.
const REWRAP_BATCH_TRANSACTION = { timeoutMs: 120_000 };

export interface MasterKeyUsage {
  readonly masterKeyId: string;
  readonly records: number;
  readonly active: boolean;
  /** False for a key id that records name but this process does not hold: they cannot open. */
  readonly configured: boolean;
}

export interface RewrapReport {
  readonly rewrapped: number;
  /** Records whose data key did not open (details in the log); they keep their old key. */
  readonly failed: number;
  /** Records still not on the active key when the run ended: the failed ones, or rows others kept locked. */
  readonly remaining: number;
}

/** `keys rewrap` would move records to a key that a running instance cannot open yet. */
export class InstancesLackActiveKeyError extends Error {
  constructor(
    readonly activeKeyId: string,
    readonly instances: readonly MasterKeyHolder[],
  ) {
    super(
      `Not re-wrapping: ${instances.length} running instance(s) do not hold master key "${activeKeyId}" ` +
        `(${instances.map((i) => `${i.hostname} pid ${i.pid}`).join(', ')}). ` +
        'Restart every instance with the new key first, then run keys rewrap again.',
    );
    this.name = 'InstancesLackActiveKeyError';
  }
}

export interface VerifyReport {
  readonly checked: number;
  readonly failed: readonly { readonly store: string; readonly id: string; readonly orgId: string; readonly masterKeyId: string }[];
}

/** Operator work on the key ring: status, rewrap after adding a key, verify before removing one. */
@Injectable()
export class KeyRotationService {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly stores: SealedRecordStores,
    private readonly sealer: SecretSealer,
    private readonly ring: MasterKeyRing,
    private readonly holders: MasterKeyHolderRepository,
    private readonly clock: Clock,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  get activeKeyId(): string {
    return this.ring.activeId;
  }

  get keySource(): string {
    return this.ring.source;
  }

  /** Every configured key and every key id records name, with how many records each protects. */
  async status(): Promise<MasterKeyUsage[]> {
    const counts = await this.stores.countByMasterKey();
    const ids = [...this.ring.ids, ...[...counts.keys()].filter((id) => !this.ring.ids.includes(id)).sort()];
    return ids.map((id) => ({
      masterKeyId: id,
      records: counts.get(id) ?? 0,
      active: id === this.ring.activeId,
      configured: this.ring.ids.includes(id),
    }));
  }

  /**
   * Moves every record to the active master key, a batch per transaction, so it can stop at any
   * point and be run again. Rows another process holds are skipped (that process is rewrapping or
   * rewriting them), which is what makes two concurrent runs safe; skipped rows are picked up by
   * another pass, so a run ends with nothing left unless a record cannot be opened at all.
   *
   * Refuses (before every batch) while a live API instance does not hold the active key: the
   * records moved to it would stop opening there.
   */
  async rewrap(batchSize: number, onBatch?: (done: number) => void): Promise<RewrapReport> {
    const failedIds = new Set<string>();
    let rewrapped = 0;
    let remaining = 0;
    for (let pass = 0; pass < REWRAP_MAX_PASSES; pass++) {
      if (pass > 0) await this.clock.sleep(REWRAP_PASS_PAUSE_MS * pass);
      for (const store of this.stores.all()) {
        let afterId = '';
        for (;;) {
          await this.refuseWhileInstancesLackActiveKey();
          // One transaction a batch, so a run can stop anywhere and be started again.
          const batch = await this.uow.transaction(
            (tx) =>
              store.rewrapBatch(tx, this.ring.activeId, afterId, batchSize, (record) => {
                const key = `${store.name}/${record.id}`;
                if (failedIds.has(key)) return undefined;
                try {
                  return this.sealer.rewrap(record.sealed, record.context);
                } catch {
                  failedIds.add(key); // already logged by the sealer, without bytes
                  return undefined;
                }
              }),
            REWRAP_BATCH_TRANSACTION,
          );
          if (batch.seen.length === 0) break;
          afterId = batch.seen[batch.seen.length - 1]!;
          rewrapped += batch.rewrapped;
          onBatch?.(rewrapped);
        }
      }
      remaining = await this.countNotOnActiveKey();
      if (remaining <= failedIds.size) break;
    }
    const report = { rewrapped, failed: failedIds.size, remaining };
    this.logger.info({ ...report, active_master_key_id: this.ring.activeId }, 'rewrap finished');
    return report;
  }

  /** The API instances running now and the keys each holds (see MasterKeyPresence). */
  liveInstances(): Promise<MasterKeyHolder[]> {
    return this.holders.live(HOLDER_LIVE_SECONDS);
  }

  async instancesLackingActiveKey(): Promise<MasterKeyHolder[]> {
    return (await this.liveInstances()).filter((holder) => !holder.keyIds.includes(this.ring.activeId));
  }

  private async refuseWhileInstancesLackActiveKey(): Promise<void> {
    const lacking = await this.instancesLackingActiveKey();
    if (lacking.length > 0) throw new InstancesLackActiveKeyError(this.ring.activeId, lacking);
  }

  private async countNotOnActiveKey(): Promise<number> {
    let count = 0;
    for (const [id, records] of await this.stores.countByMasterKey()) if (id !== this.ring.activeId) count += records;
    return count;
  }

  /** Opens every record (secrets included) and reports the ones that do not open. */
  async verify(batchSize: number): Promise<VerifyReport> {
    let checked = 0;
    const failed: { store: string; id: string; orgId: string; masterKeyId: string }[] = [];
    for (const store of this.stores.all()) {
      let afterId = '';
      for (;;) {
        const page = await store.scan(afterId, batchSize);
        if (page.length === 0) break;
        for (const record of page) {
          checked++;
          try {
            this.sealer.verify(record.sealed, record.context);
          } catch {
            failed.push({ store: store.name, id: record.id, orgId: record.context.orgId, masterKeyId: record.sealed.masterKeyId });
          }
        }
        afterId = page[page.length - 1]!.id;
      }
    }
    return { checked, failed };
  }
}

import { Injectable } from '@nestjs/common';
import type { Transaction } from '#agentplane/db';
import type { SealedSecret, SecretContext } from './secret-context.js';

/** One stored secret as key management sees it: where it belongs and its sealed bytes. */
export interface SealedRecord {
  /** The record's id in its store; pages and batches go in this order. */
  readonly id: string;
  readonly context: SecretContext;
  readonly sealed: SealedSecret;
}

export interface RewrapBatch {
  /** Ids looked at, in order: the next batch starts after the last one. */
  readonly seen: readonly string[];
  readonly rewrapped: number;
}

/**
 * A table that holds sealed secrets. Whatever lib owns such a table registers a store, so that
 * rotation (status, rewrap, verify) and the serving check cover every secret without key
 * management knowing what the secrets are for.
 */
export interface SealedRecordStore {
  /** For messages and reports, e.g. `credentials`. */
  readonly name: string;
  /** How many records each master key id protects. */
  countByMasterKey(): Promise<ReadonlyMap<string, number>>;
  /**
   * Locks up to `limit` records after `afterId` that are not on `activeKeyId` (skipping rows
   * others hold), and stores what `rewrap` returns for each (undefined: leave it), in `tx`. Only
   * the wrapped data key and its master-key id may change.
   */
  rewrapBatch(
    tx: Transaction,
    activeKeyId: string,
    afterId: string,
    limit: number,
    rewrap: (record: SealedRecord) => SealedSecret | undefined,
  ): Promise<RewrapBatch>;
  /** Every record after `afterId`, in id order, a page at a time. */
  scan(afterId: string, limit: number): Promise<readonly SealedRecord[]>;
}

/** The stores of this process, registered by the libs that own them while modules initialise. */
@Injectable()
export class SealedRecordStores {
  private readonly stores: SealedRecordStore[] = [];

  register(store: SealedRecordStore): void {
    if (!this.stores.includes(store)) this.stores.push(store);
  }

  all(): readonly SealedRecordStore[] {
    return this.stores;
  }

  /** Records per master key id, over every store. */
  async countByMasterKey(): Promise<Map<string, number>> {
    const total = new Map<string, number>();
    for (const store of this.stores) {
      for (const [id, count] of await store.countByMasterKey()) total.set(id, (total.get(id) ?? 0) + count);
    }
    return total;
  }
}

import { Inject, Injectable } from '@nestjs/common';
import { LOGGER, type Logger } from '@agentplane/logging';
import { CredentialRepository, type SealedRecordRef } from './credential.repository.js';
import { secretContext } from './credentials.service.js';
import { MasterKeyRing } from './master-key-ring.js';
import { SecretSealer } from './secret-sealer.js';

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
  /** Records still not on the active key when the run ended (failed, or held by someone else). */
  readonly remaining: number;
}

export interface VerifyReport {
  readonly checked: number;
  readonly failed: readonly { readonly id: string; readonly orgId: string; readonly masterKeyId: string }[];
}

/** Operator work on the key ring: status, rewrap after adding a key, verify before removing one. */
@Injectable()
export class KeyRotationService {
  constructor(
    private readonly credentials: CredentialRepository,
    private readonly sealer: SecretSealer,
    private readonly ring: MasterKeyRing,
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
    const counts = await this.credentials.countByMasterKey();
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
   * rewriting them), which is what makes two concurrent runs safe.
   */
  async rewrap(batchSize: number, onBatch?: (done: number) => void): Promise<RewrapReport> {
    let afterId = '';
    let rewrapped = 0;
    let failed = 0;
    for (;;) {
      const batch = await this.credentials.rewrapBatch(this.ring.activeId, afterId, batchSize, (record) => {
        try {
          return this.sealer.rewrap(record.sealed, contextOf(record));
        } catch {
          failed++; // already logged by the sealer, without bytes
          return undefined;
        }
      });
      if (batch.seen.length === 0) break;
      afterId = batch.seen[batch.seen.length - 1]!;
      rewrapped += batch.rewrapped;
      onBatch?.(rewrapped);
    }
    const remaining = [...(await this.credentials.countByMasterKey())]
      .filter(([id]) => id !== this.ring.activeId)
      .reduce((n, [, count]) => n + count, 0);
    this.logger.info({ rewrapped, failed, remaining, active_master_key_id: this.ring.activeId }, 'rewrap finished');
    return { rewrapped, failed, remaining };
  }

  /** Opens every record (secrets included) and reports the ones that do not open. */
  async verify(batchSize: number): Promise<VerifyReport> {
    let afterId = '';
    let checked = 0;
    const failed: { id: string; orgId: string; masterKeyId: string }[] = [];
    for (;;) {
      const page = await this.credentials.scanSealed(afterId, batchSize);
      if (page.length === 0) break;
      for (const record of page) {
        checked++;
        try {
          this.sealer.verify(record.sealed, contextOf(record));
        } catch {
          failed.push({ id: record.id, orgId: record.orgId, masterKeyId: record.sealed.masterKeyId });
        }
      }
      afterId = page[page.length - 1]!.id;
    }
    return { checked, failed };
  }
}

function contextOf(record: SealedRecordRef) {
  return secretContext(record.orgId, record.id);
}

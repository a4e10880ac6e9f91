import { Injectable } from '@nestjs/common';
import { MasterKeyRing } from './master-key-ring.js';
import { SealedRecordStores } from './sealed-record-store.js';

/**
 * Refuses to serve when stored records name master keys this process does not hold: a key
 * dropped from AGENTPLANE_MASTER_KEYS before `keys rewrap` finished, or a lost key file replaced
 * by a fresh one. Serving anyway would fail those secrets one request at a time. The CLI does not
 * run this check, so `keys status` can still show what is missing.
 */
@Injectable()
export class MasterKeyCoverage {
  constructor(
    private readonly stores: SealedRecordStores,
    private readonly ring: MasterKeyRing,
  ) {}

  /** Throws when some record cannot open here; runs after every store has registered. */
  async assertCovered(): Promise<void> {
    const missing = [...(await this.stores.countByMasterKey())].filter(([id]) => !this.ring.ids.includes(id));
    if (missing.length === 0) return;
    const list = missing.map(([id, count]) => `"${id}" (${count} record(s))`).join(', ');
    throw new Error(
      `${this.ring.source}: stored secrets are sealed under master key(s) this process does not hold: ${list}. ` +
        'Add those keys back (they may be removed only after keys rewrap reports nothing left on them).',
    );
  }
}

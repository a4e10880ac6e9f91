import { Injectable, type OnModuleInit } from '@nestjs/common';
import { MasterKeyCheckRepository } from './master-key-check.repository.js';
import { MasterKeyRing } from './master-key-ring.js';
import { Sodium } from './sodium.js';

const CHECK_MESSAGE = new TextEncoder().encode('agentplane.master-key-check.v1');

/**
 * Refuses to start when a configured key id names different material than the one that id named
 * before (a typo'd or swapped key): otherwise new records would be sealed under a key nothing
 * else holds, and old ones would fail to open one request at a time.
 */
@Injectable()
export class MasterKeyVerifier implements OnModuleInit {
  constructor(
    private readonly ring: MasterKeyRing,
    private readonly checks: MasterKeyCheckRepository,
    private readonly sodium: Sodium,
  ) {}

  async onModuleInit(): Promise<void> {
    for (const id of this.ring.ids) {
      // A keyed hash of a constant: reveals nothing about the key, but only that key produces it.
      const check = new Uint8Array(this.sodium.keyedHash(32, CHECK_MESSAGE, this.ring.material(id)!));
      const recorded = await this.checks.recordOrGet(id, check);
      if (!this.sodium.equal(check, recorded)) {
        throw new Error(
          `${this.ring.source}: master key "${id}" is not the key this database knows by that id. ` +
            'Restore the original key material, or give a new key a new id.',
        );
      }
    }
  }
}

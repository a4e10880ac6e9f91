import { Injectable } from '@nestjs/common';
import { MasterKeyRing } from './master-key-ring.js';
import { Sodium } from './sodium.js';

const SUBKEY_CONTEXT = new TextEncoder().encode('agentplane.fingerprint.v1');

export interface Fingerprint {
  readonly keyId: string;
  readonly digest: Uint8Array;
}

/**
 * Keyed fingerprints of data that may hold a secret (an idempotent request's body carries its
 * api_key): BLAKE2b under a subkey of a master key, so a stored fingerprint cannot be used to test
 * guesses without the key. Every instance that shares the master keys computes the same value.
 */
@Injectable()
export class Fingerprinter {
  constructor(
    private readonly sodium: Sodium,
    private readonly ring: MasterKeyRing,
  ) {}

  fingerprint(message: string): Fingerprint {
    const keyId = this.ring.activeId;
    return { keyId, digest: this.digest(message, this.subkey(keyId)!) };
  }

  /** Constant-time; false also when the key the fingerprint was made with is no longer held. */
  matches(message: string, fingerprint: Fingerprint): boolean {
    const subkey = this.subkey(fingerprint.keyId);
    if (subkey === undefined) return false;
    return this.sodium.equal(this.digest(message, subkey), fingerprint.digest);
  }

  private subkey(keyId: string): Uint8Array | undefined {
    const master = this.ring.material(keyId);
    return master === undefined ? undefined : this.sodium.keyedHash(32, SUBKEY_CONTEXT, master);
  }

  private digest(message: string, subkey: Uint8Array): Uint8Array {
    try {
      return new Uint8Array(this.sodium.keyedHash(32, new TextEncoder().encode(message), subkey));
    } finally {
      this.sodium.zero(subkey);
    }
  }
}

import { createHash, randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';

export const API_KEY_PREFIX = 'ap_';
const SECRET_BYTES = 32;
const API_KEY_FORMAT = /^ap_[A-Za-z0-9_-]{43}$/;

export interface GeneratedApiKey {
  /** Shown once to the operator, never stored. */
  readonly key: string;
  /** Enough for a person to recognise the key in a list; useless to an attacker. */
  readonly prefix: string;
  readonly hash: Uint8Array<ArrayBuffer>;
}

/**
 * API-key material. The stored verifier is SHA-256 of the key, deliberately unkeyed: a key holds
 * 256 random bits, so neither dictionary nor brute force reaches a preimage, and a deterministic
 * hash lets the guard find the key with one indexed lookup. A pepper (the keyed hash used to
 * fingerprint customer secrets, which may be guessable) would add a secret that every
 * instance must share and that could never rotate without reissuing every key, for no gain here.
 * A slow password hash would only add latency to every request.
 */
@Injectable()
export class ApiKeyCrypto {
  generate(): GeneratedApiKey {
    const key = API_KEY_PREFIX + randomBytes(SECRET_BYTES).toString('base64url');
    return { key, prefix: key.slice(0, API_KEY_PREFIX.length + 6), hash: this.hash(key) };
  }

  isWellFormed(candidate: string): boolean {
    return API_KEY_FORMAT.test(candidate);
  }

  hash(key: string): Uint8Array<ArrayBuffer> {
    return new Uint8Array(createHash('sha256').update(key, 'utf8').digest());
  }
}

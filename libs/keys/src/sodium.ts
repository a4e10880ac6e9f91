import { randomFillSync } from 'node:crypto';
import sodium from 'libsodium-wrappers';

/**
 * The libsodium primitives the product uses, behind one injectable class so that the WASM module
 * is initialised once (`Sodium.load()`) and callers cannot reach for anything else by accident.
 */
export class Sodium {
  static readonly KEY_BYTES = 32;
  static readonly NONCE_BYTES = 24; // XChaCha20: random nonces are safe at any volume
  static readonly TAG_BYTES = 16;

  private constructor() {}

  static async load(): Promise<Sodium> {
    await sodium.ready;
    return new Sodium();
  }

  /**
   * From Node's CSPRNG (OpenSSL): libsodium-wrappers' randombytes_buf reaches the same OS source
   * through the WASM boundary about 40 times slower (measured in bench/credential-sealing.ts).
   */
  randomBytes(length: number): Uint8Array {
    return randomFillSync(new Uint8Array(length));
  }

  /** XChaCha20-Poly1305 (IETF); the result is ciphertext followed by the 16-byte tag. */
  seal(message: Uint8Array, additionalData: Uint8Array, nonce: Uint8Array, key: Uint8Array): Uint8Array {
    return sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(message, additionalData, null, nonce, key);
  }

  /** Throws when the tag does not verify: wrong key, wrong associated data or a changed byte. */
  open(sealed: Uint8Array, additionalData: Uint8Array, nonce: Uint8Array, key: Uint8Array): Uint8Array {
    return sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(null, sealed, additionalData, nonce, key);
  }

  /** BLAKE2b, keyed. */
  keyedHash(length: number, message: Uint8Array, key: Uint8Array): Uint8Array {
    return sodium.crypto_generichash(length, message, key);
  }

  /** Constant-time equality (false for different lengths). */
  equal(a: Uint8Array, b: Uint8Array): boolean {
    return a.length === b.length && sodium.memcmp(a, b);
  }

  zero(bytes: Uint8Array): void {
    sodium.memzero(bytes);
  }
}

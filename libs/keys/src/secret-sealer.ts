import { Inject, Injectable } from '@nestjs/common';
import { LOGGER, type Logger } from '#agentplane/logging';
import { MasterKeyRing } from './master-key-ring.js';
import { associatedData, SECRET_FORMAT_V1, type SealedSecret, type SecretContext } from './secret-context.js';
import { Sodium } from './sodium.js';

const WRAPPED_KEY_BYTES = Sodium.NONCE_BYTES + Sodium.KEY_BYTES + Sodium.TAG_BYTES;

type OpenFailure = 'unknown_format' | 'unknown_master_key' | 'malformed' | 'data_key_rejected' | 'secret_rejected';

/** The one error a failed open produces: it says nothing about why (the log does, without bytes). */
export class SecretUnavailableError extends Error {
  constructor() {
    super('The stored secret could not be opened.');
    this.name = 'SecretUnavailableError';
  }
}

/**
 * Envelope encryption of secrets (format v1): a fresh random data key per secret seals the secret
 * with XChaCha20-Poly1305; the active master key wraps the data key the same way. Both layers
 * bind the record's context as associated data. A record that fails to open fails closed, with
 * no fallback to another key, format or field.
 */
@Injectable()
export class SecretSealer {
  constructor(
    private readonly sodium: Sodium,
    private readonly ring: MasterKeyRing,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  seal(plaintext: string, context: SecretContext): SealedSecret {
    const message = new TextEncoder().encode(plaintext);
    const dataKey = this.sodium.randomBytes(Sodium.KEY_BYTES);
    try {
      const nonce = this.sodium.randomBytes(Sodium.NONCE_BYTES);
      const ciphertext = this.sodium.seal(message, associatedData('secret', context), nonce, dataKey);
      return {
        formatVersion: SECRET_FORMAT_V1,
        masterKeyId: this.ring.activeId,
        wrappedKey: this.wrap(dataKey, context, this.ring.activeId),
        nonce: bytes(nonce),
        ciphertext: bytes(ciphertext),
      };
    } finally {
      this.sodium.zero(message);
      this.sodium.zero(dataKey);
    }
  }

  /**
   * Opens a secret for the duration of `use` only. The decrypted bytes are zeroed afterwards; the
   * string handed to `use` is as short-lived as the caller keeps it.
   */
  async withPlaintext<T>(sealed: SealedSecret, context: SecretContext, use: (plaintext: string) => Promise<T> | T): Promise<T> {
    const plaintext = this.open(sealed, context);
    try {
      return await use(new TextDecoder('utf-8', { fatal: true }).decode(plaintext));
    } finally {
      this.sodium.zero(plaintext);
    }
  }

  /** Proves that a record opens, without handing its secret to anyone. */
  verify(sealed: SealedSecret, context: SecretContext): void {
    this.sodium.zero(this.open(sealed, context));
  }

  /**
   * Re-wraps the data key under the active master key, leaving nonce and ciphertext untouched:
   * the secret itself is never decrypted. Undefined when the record is already on the active key.
   */
  rewrap(sealed: SealedSecret, context: SecretContext): SealedSecret | undefined {
    if (sealed.masterKeyId === this.ring.activeId && sealed.formatVersion === SECRET_FORMAT_V1) return undefined;
    const dataKey = this.unwrap(sealed, context);
    try {
      return { ...sealed, masterKeyId: this.ring.activeId, wrappedKey: this.wrap(dataKey, context, this.ring.activeId) };
    } finally {
      this.sodium.zero(dataKey);
    }
  }

  private open(sealed: SealedSecret, context: SecretContext): Uint8Array {
    const dataKey = this.unwrap(sealed, context);
    try {
      if (sealed.nonce.length !== Sodium.NONCE_BYTES || sealed.ciphertext.length < Sodium.TAG_BYTES) {
        throw this.failure('malformed', sealed, context);
      }
      try {
        return this.sodium.open(sealed.ciphertext, associatedData('secret', context), sealed.nonce, dataKey);
      } catch {
        throw this.failure('secret_rejected', sealed, context);
      }
    } finally {
      this.sodium.zero(dataKey);
    }
  }

  private wrap(dataKey: Uint8Array, context: SecretContext, masterKeyId: string): Uint8Array<ArrayBuffer> {
    const masterKey = this.ring.material(masterKeyId);
    if (masterKey === undefined) throw new Error(`master key ${masterKeyId} is not loaded`);
    const nonce = this.sodium.randomBytes(Sodium.NONCE_BYTES);
    const sealedKey = this.sodium.seal(dataKey, associatedData('data-key', context, masterKeyId), nonce, masterKey);
    const out = new Uint8Array(nonce.length + sealedKey.length);
    out.set(nonce, 0);
    out.set(sealedKey, nonce.length);
    return out;
  }

  private unwrap(sealed: SealedSecret, context: SecretContext): Uint8Array {
    if (sealed.formatVersion !== SECRET_FORMAT_V1) throw this.failure('unknown_format', sealed, context);
    const masterKey = this.ring.material(sealed.masterKeyId);
    if (masterKey === undefined) throw this.failure('unknown_master_key', sealed, context);
    if (sealed.wrappedKey.length !== WRAPPED_KEY_BYTES) throw this.failure('malformed', sealed, context);
    const nonce = sealed.wrappedKey.subarray(0, Sodium.NONCE_BYTES);
    const sealedKey = sealed.wrappedKey.subarray(Sodium.NONCE_BYTES);
    try {
      return this.sodium.open(sealedKey, associatedData('data-key', context, sealed.masterKeyId), nonce, masterKey);
    } catch {
      throw this.failure('data_key_rejected', sealed, context);
    }
  }

  // Logged with where the record belongs and why it failed, never with any of its bytes.
  private failure(reason: OpenFailure, sealed: SealedSecret, context: SecretContext): SecretUnavailableError {
    this.logger.warn(
      {
        reason,
        org_id: context.orgId,
        owner_id: context.ownerId,
        field: context.field,
        master_key_id: sealed.masterKeyId,
        format_version: sealed.formatVersion,
      },
      'sealed secret did not open',
    );
    return new SecretUnavailableError();
  }
}

// libsodium returns Uint8Array views; Prisma's Bytes wants a plain ArrayBuffer-backed copy.
function bytes(view: Uint8Array): Uint8Array<ArrayBuffer> {
  return new Uint8Array(view);
}

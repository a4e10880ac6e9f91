/**
 * Where a sealed secret belongs. Every field is bound into the associated data, so a record
 * copied to another org, another owner or another field of the same owner does not open.
 */
export interface SecretContext {
  readonly orgId: string;
  /** The row that holds the secret (for a credential, its id). */
  readonly ownerId: string;
  /** Which secret of that row, e.g. `api_key`. */
  readonly field: string;
}

/** A secret as stored: everything needed to open it with the right master key, nothing more. */
export interface SealedSecret {
  readonly formatVersion: number;
  /** Id of the master key that wrapped `wrappedKey`. */
  readonly masterKeyId: string;
  /** 24-byte nonce, then the data key sealed under the master key (32 + 16 bytes). */
  readonly wrappedKey: Uint8Array<ArrayBuffer>;
  /** The nonce the secret was sealed with under the data key. */
  readonly nonce: Uint8Array<ArrayBuffer>;
  /** The secret sealed under the data key, tag included. */
  readonly ciphertext: Uint8Array<ArrayBuffer>;
}

export const SECRET_FORMAT_V1 = 1;

const encoder = new TextEncoder();

/**
 * Associated data for one layer of a v1 record: a domain label, then length-prefixed parts, so
 * that no two different contexts can produce the same bytes (`a|bc` vs `ab|c`).
 */
export function associatedData(layer: 'secret' | 'data-key', context: SecretContext, masterKeyId?: string): Uint8Array {
  const parts = [`agentplane.secret.v${SECRET_FORMAT_V1}.${layer}`, context.orgId, context.ownerId, context.field];
  if (masterKeyId !== undefined) parts.push(masterKeyId);
  const encoded = parts.map((p) => encoder.encode(p));
  const out = new Uint8Array(encoded.reduce((n, p) => n + 4 + p.length, 0));
  const view = new DataView(out.buffer);
  let offset = 0;
  for (const part of encoded) {
    view.setUint32(offset, part.length);
    out.set(part, offset + 4);
    offset += 4 + part.length;
  }
  return out;
}

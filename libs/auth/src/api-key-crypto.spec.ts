import { ApiKeyCrypto } from './api-key-crypto.js';

describe('ApiKeyCrypto', () => {
  const crypto = new ApiKeyCrypto();

  it('generates prefixed keys with 256 bits of randomness', () => {
    const { key, prefix, hash } = crypto.generate();
    expect(key).toMatch(/^ap_[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(key.slice(3), 'base64url')).toHaveLength(32);
    expect(key.startsWith(prefix)).toBe(true);
    expect(prefix).toHaveLength(9);
    expect(hash).toHaveLength(32);
    expect(crypto.isWellFormed(key)).toBe(true);
  });

  it('never generates the same key twice', () => {
    const keys = new Set(Array.from({ length: 1000 }, () => crypto.generate().key));
    expect(keys.size).toBe(1000);
  });

  it('hashes deterministically, and differently for every other key', () => {
    const { key, hash } = crypto.generate();
    expect(Buffer.from(crypto.hash(key)).equals(Buffer.from(hash))).toBe(true);
    const flipped = key.slice(0, -1) + (key.endsWith('A') ? 'B' : 'A');
    for (const other of [key + 'x', flipped, crypto.generate().key]) {
      expect(Buffer.from(crypto.hash(other)).equals(Buffer.from(hash))).toBe(false);
    }
  });

  it.each(['', 'ap_', 'ap_short', 'sk_' + 'a'.repeat(43), 'ap_' + 'a'.repeat(42) + '!', 'ap_' + 'a'.repeat(44)])(
    'rejects the malformed key %j',
    (candidate) => {
      expect(crypto.isWellFormed(candidate)).toBe(false);
    },
  );
});

import { jest } from '@jest/globals';
import type { MasterKey } from '#agentplane/config';
import type { Logger } from '#agentplane/logging';
import { MasterKeyRing } from './master-key-ring.js';
import { associatedData, type SealedSecret, type SecretContext } from './secret-context.js';
import { SecretSealer, SecretUnavailableError } from './secret-sealer.js';
import { Sodium } from './sodium.js';

const OLD: MasterKey = { id: 'mk-old', key: new Uint8Array(Buffer.alloc(32, 1)) };
const NEW: MasterKey = { id: 'mk-new', key: new Uint8Array(Buffer.alloc(32, 2)) };
const OLD_IMPOSTOR: MasterKey = { id: 'mk-old', key: new Uint8Array(Buffer.alloc(32, 3)) };
const OTHER: MasterKey = { id: 'mk-other', key: new Uint8Array(Buffer.alloc(32, 4)) };

const CONTEXT: SecretContext = { orgId: 'org_a1', ownerId: 'cred_a1', field: 'api_key' };
const PLAINTEXT = 'sk-proj-Zq8mK2vT9xWc4LbN7rHs1YdF6gJp3QeU';
const MESSAGE = 'The stored secret could not be opened.';

let sodium: Sodium;

beforeAll(async () => {
  sodium = await Sodium.load();
});

function mockLogger() {
  return { warn: jest.fn(), info: jest.fn(), error: jest.fn(), debug: jest.fn() };
}

function sealerWith(keys: readonly MasterKey[]) {
  const logger = mockLogger();
  const sealer = new SecretSealer(sodium, new MasterKeyRing(keys, 'test'), logger as unknown as Logger);
  return { sealer, logger };
}

function flipped(bytes: Uint8Array<ArrayBuffer>, index: number): Uint8Array<ArrayBuffer> {
  const copy = new Uint8Array(bytes);
  copy[index] = (copy[index] ?? 0) ^ (1 << (index % 8));
  return copy;
}

/** The error `fn` throws; fails the test when it throws nothing. */
function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

function expectUnavailable(error: unknown): void {
  expect(error).toBeInstanceOf(SecretUnavailableError);
  expect((error as SecretUnavailableError).message).toBe(MESSAGE);
}

/** Opens via withPlaintext, checks it fails closed without calling `use`, and returns the logged reason. */
async function expectOpenFails(
  sealer: SecretSealer,
  logger: ReturnType<typeof mockLogger>,
  sealed: SealedSecret,
  context: SecretContext,
): Promise<unknown> {
  logger.warn.mockClear();
  const use = jest.fn((plaintext: string) => plaintext);
  const error = await sealer.withPlaintext(sealed, context, use).then(
    () => undefined,
    (e: unknown) => e,
  );
  expectUnavailable(error);
  expect(use).not.toHaveBeenCalled();
  expectUnavailable(thrownBy(() => sealer.verify(sealed, context)));
  expect(logger.warn).toHaveBeenCalledTimes(2);
  return (logger.warn.mock.calls[0]?.[0] as { reason?: unknown } | undefined)?.reason;
}

describe('SecretSealer round trip', () => {
  it.each([
    ['an ASCII key', PLAINTEXT],
    ['a unicode key', 'clé-секрет-鍵-🔑-\u00e9\u0301'],
    ['a one-character key', 'x'],
    ['an empty string', ''],
  ])('opens %s to exactly the same string', async (_label, plaintext) => {
    const { sealer, logger } = sealerWith([OLD]);
    const sealed = sealer.seal(plaintext, CONTEXT);
    expect(sealed.formatVersion).toBe(1);
    expect(sealed.masterKeyId).toBe('mk-old');
    expect(sealed.nonce).toHaveLength(24);
    expect(sealed.wrappedKey).toHaveLength(24 + 32 + 16);
    expect(sealed.ciphertext).toHaveLength(Buffer.byteLength(plaintext, 'utf8') + 16);
    await expect(sealer.withPlaintext(sealed, CONTEXT, (p) => p)).resolves.toBe(plaintext);
    expect(() => sealer.verify(sealed, CONTEXT)).not.toThrow();
    expect(logger.warn).not.toHaveBeenCalled();
  });

  it('returns what `use` returns, awaiting it', async () => {
    const { sealer } = sealerWith([OLD]);
    const sealed = sealer.seal(PLAINTEXT, CONTEXT);
    await expect(sealer.withPlaintext(sealed, CONTEXT, async (p) => p.length)).resolves.toBe(PLAINTEXT.length);
  });

  it('does not store the plaintext bytes anywhere in the record', () => {
    const { sealer } = sealerWith([OLD]);
    const sealed = sealer.seal(PLAINTEXT, CONTEXT);
    const all = Buffer.concat([sealed.wrappedKey, sealed.nonce, sealed.ciphertext]);
    expect(all.includes(Buffer.from(PLAINTEXT))).toBe(false);
    expect(all.includes(Buffer.from(PLAINTEXT.slice(0, 8)))).toBe(false);
  });

  it('seals the same plaintext and context differently every time', () => {
    const { sealer } = sealerWith([OLD]);
    const a = sealer.seal(PLAINTEXT, CONTEXT);
    const b = sealer.seal(PLAINTEXT, CONTEXT);
    expect(Buffer.from(a.nonce).equals(Buffer.from(b.nonce))).toBe(false);
    expect(Buffer.from(a.wrappedKey).equals(Buffer.from(b.wrappedKey))).toBe(false);
    expect(Buffer.from(a.ciphertext).equals(Buffer.from(b.ciphertext))).toBe(false);
    // The data keys differ too: the wrapped key's own nonce aside, its sealed part differs.
    expect(Buffer.from(a.wrappedKey.subarray(24)).equals(Buffer.from(b.wrappedKey.subarray(24)))).toBe(false);
  });

  it('returns plain ArrayBuffer-backed copies, not views into a shared buffer', () => {
    const { sealer } = sealerWith([OLD]);
    const sealed = sealer.seal(PLAINTEXT, CONTEXT);
    for (const part of [sealed.wrappedKey, sealed.nonce, sealed.ciphertext]) {
      expect(part.byteOffset).toBe(0);
      expect(part.buffer.byteLength).toBe(part.length);
    }
  });
});

describe('SecretSealer with the wrong master key', () => {
  it('fails closed when the ring has the same key id with different material', async () => {
    const sealed = sealerWith([OLD]).sealer.seal(PLAINTEXT, CONTEXT);
    const { sealer, logger } = sealerWith([OLD_IMPOSTOR]);
    expect(await expectOpenFails(sealer, logger, sealed, CONTEXT)).toBe('data_key_rejected');
  });

  it('fails closed when the ring lacks the record key id', async () => {
    const sealed = sealerWith([OLD]).sealer.seal(PLAINTEXT, CONTEXT);
    const { sealer, logger } = sealerWith([NEW, OTHER]);
    expect(await expectOpenFails(sealer, logger, sealed, CONTEXT)).toBe('unknown_master_key');
  });
});

describe('SecretSealer with a tampered record', () => {
  let sealer: SecretSealer;
  let logger: ReturnType<typeof mockLogger>;
  let sealed: SealedSecret;

  beforeAll(() => {
    ({ sealer, logger } = sealerWith([OLD, OTHER]));
    sealed = sealer.seal(PLAINTEXT, CONTEXT);
  });

  beforeEach(() => logger.warn.mockClear());

  it.each(['wrappedKey', 'nonce', 'ciphertext'] as const)('fails closed for a flipped bit in every byte of %s', (part) => {
    const length = sealed[part].length;
    expect(length).toBeGreaterThan(0);
    const reasons = new Set<unknown>();
    for (let index = 0; index < length; index++) {
      const tampered: SealedSecret = { ...sealed, [part]: flipped(sealed[part], index) };
      expectUnavailable(thrownBy(() => sealer.verify(tampered, CONTEXT)));
      reasons.add((logger.warn.mock.calls.at(-1)?.[0] as { reason?: unknown } | undefined)?.reason);
    }
    expect(logger.warn).toHaveBeenCalledTimes(length);
    expect([...reasons]).toEqual([part === 'wrappedKey' ? 'data_key_rejected' : 'secret_rejected']);
    // The untouched record still opens: the failures came from the flipped bit.
    expect(() => sealer.verify(sealed, CONTEXT)).not.toThrow();
  });

  it('fails closed for a flipped bit via withPlaintext as well', async () => {
    for (const part of ['wrappedKey', 'nonce', 'ciphertext'] as const) {
      for (const index of [0, sealed[part].length - 1]) {
        await expectOpenFails(sealer, logger, { ...sealed, [part]: flipped(sealed[part], index) }, CONTEXT);
      }
    }
  });

  it.each([2, 0, -1, 1.5])('fails closed for formatVersion %p', async (formatVersion) => {
    expect(await expectOpenFails(sealer, logger, { ...sealed, formatVersion }, CONTEXT)).toBe('unknown_format');
  });

  it('fails closed when masterKeyId is relabelled to another key in the ring', async () => {
    expect(await expectOpenFails(sealer, logger, { ...sealed, masterKeyId: OTHER.id }, CONTEXT)).toBe('data_key_rejected');
  });

  it('fails closed when masterKeyId is relabelled to an id with the same material (the id is bound too)', async () => {
    const alias: MasterKey = { id: 'mk-alias', key: OLD.key };
    const aliased = sealerWith([OLD, alias]);
    expect(await expectOpenFails(aliased.sealer, aliased.logger, { ...sealed, masterKeyId: alias.id }, CONTEXT)).toBe('data_key_rejected');
    await expect(aliased.sealer.withPlaintext(sealed, CONTEXT, (p) => p)).resolves.toBe(PLAINTEXT);
  });

  it('fails closed when masterKeyId names a key that is not loaded', async () => {
    expect(await expectOpenFails(sealer, logger, { ...sealed, masterKeyId: 'mk-missing' }, CONTEXT)).toBe('unknown_master_key');
  });

  it.each([
    ['by one byte', () => sealed.ciphertext.length - 1],
    ['to the tag length', () => 16],
    ['below the tag length', () => 15],
    ['to one byte', () => 1],
  ])('fails closed for a ciphertext truncated %s', async (_label, lengthOf) => {
    const length = lengthOf();
    const truncated = new Uint8Array(sealed.ciphertext.subarray(0, length));
    const reason = await expectOpenFails(sealer, logger, { ...sealed, ciphertext: truncated }, CONTEXT);
    expect(reason).toBe(length < 16 ? 'malformed' : 'secret_rejected');
  });

  it('fails closed for a ciphertext with a byte appended', async () => {
    const longer = new Uint8Array([...sealed.ciphertext, 0]);
    await expectOpenFails(sealer, logger, { ...sealed, ciphertext: longer }, CONTEXT);
  });

  it.each([
    ['wrappedKey', 'malformed'],
    ['nonce', 'malformed'],
    ['ciphertext', 'malformed'],
  ] as const)('fails closed for an empty %s', async (part, reason) => {
    expect(await expectOpenFails(sealer, logger, { ...sealed, [part]: new Uint8Array(0) }, CONTEXT)).toBe(reason);
  });

  it('fails closed for a wrappedKey or nonce of the wrong length', async () => {
    await expectOpenFails(sealer, logger, { ...sealed, wrappedKey: new Uint8Array(sealed.wrappedKey.subarray(0, 71)) }, CONTEXT);
    await expectOpenFails(sealer, logger, { ...sealed, wrappedKey: new Uint8Array([...sealed.wrappedKey, 0]) }, CONTEXT);
    await expectOpenFails(sealer, logger, { ...sealed, nonce: new Uint8Array(sealed.nonce.subarray(0, 12)) }, CONTEXT);
  });

  it('fails closed when parts of two records are mixed', async () => {
    const other = sealer.seal(PLAINTEXT, CONTEXT);
    await expectOpenFails(sealer, logger, { ...sealed, wrappedKey: other.wrappedKey }, CONTEXT);
    await expectOpenFails(sealer, logger, { ...sealed, nonce: other.nonce }, CONTEXT);
    await expectOpenFails(sealer, logger, { ...sealed, ciphertext: other.ciphertext }, CONTEXT);
  });
});

describe('SecretSealer context binding', () => {
  let sealer: SecretSealer;
  let logger: ReturnType<typeof mockLogger>;

  beforeAll(() => {
    ({ sealer, logger } = sealerWith([OLD]));
  });

  it.each<[string, SecretContext]>([
    ['another credential', { ...CONTEXT, ownerId: 'cred_b2' }],
    ['another org', { ...CONTEXT, orgId: 'org_b2' }],
    ['another field', { ...CONTEXT, field: 'webhook_secret' }],
    ['a case-changed field', { ...CONTEXT, field: 'API_KEY' }],
  ])('does not open a record moved to %s', async (_label, moved) => {
    const sealed = sealer.seal(PLAINTEXT, CONTEXT);
    expect(await expectOpenFails(sealer, logger, sealed, moved)).toBe('data_key_rejected');
    // and the other way round
    const there = sealer.seal(PLAINTEXT, moved);
    await expectOpenFails(sealer, logger, there, CONTEXT);
  });

  it('does not open a record whose context strings are split differently (length-prefixed AAD)', async () => {
    const abC: SecretContext = { orgId: 'ab', ownerId: 'c', field: 'api_key' };
    const aBc: SecretContext = { orgId: 'a', ownerId: 'bc', field: 'api_key' };
    const sealed = sealer.seal(PLAINTEXT, abC);
    await expect(sealer.withPlaintext(sealed, abC, (p) => p)).resolves.toBe(PLAINTEXT);
    await expectOpenFails(sealer, logger, sealed, aBc);
    const ownerField = sealer.seal(PLAINTEXT, { orgId: 'o', ownerId: 'x', field: 'yz' });
    await expectOpenFails(sealer, logger, ownerField, { orgId: 'o', ownerId: 'xy', field: 'z' });
  });

  it('binds the context in the secret layer too, not only in the wrapped data key', async () => {
    const moved: SecretContext = { ...CONTEXT, ownerId: 'cred_b2' };
    // Hand-build v1 records whose data key is wrapped for `moved`, with the secret sealed for `secretFor`.
    const craft = (secretFor: SecretContext): SealedSecret => {
      const dataKey = sodium.randomBytes(32);
      const nonce = sodium.randomBytes(24);
      const ciphertext = sodium.seal(new TextEncoder().encode(PLAINTEXT), associatedData('secret', secretFor), nonce, dataKey);
      const wrapNonce = sodium.randomBytes(24);
      const sealedKey = sodium.seal(dataKey, associatedData('data-key', moved, OLD.id), wrapNonce, OLD.key);
      return {
        formatVersion: 1,
        masterKeyId: OLD.id,
        wrappedKey: new Uint8Array([...wrapNonce, ...sealedKey]),
        nonce: new Uint8Array(nonce),
        ciphertext: new Uint8Array(ciphertext),
      };
    };
    // Control: built consistently, the hand-made record opens.
    await expect(sealer.withPlaintext(craft(moved), moved, (p) => p)).resolves.toBe(PLAINTEXT);
    expect(await expectOpenFails(sealer, logger, craft(CONTEXT), moved)).toBe('secret_rejected');
  });

  it('produces different associated data for re-split contexts and for each layer', () => {
    const a = associatedData('secret', { orgId: 'ab', ownerId: 'c', field: 'f' });
    const b = associatedData('secret', { orgId: 'a', ownerId: 'bc', field: 'f' });
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(false);
    const layerA = associatedData('secret', CONTEXT);
    const layerB = associatedData('data-key', CONTEXT);
    expect(Buffer.from(layerA).equals(Buffer.from(layerB))).toBe(false);
    const withKey = associatedData('data-key', CONTEXT, 'mk-old');
    expect(Buffer.from(withKey).equals(Buffer.from(associatedData('data-key', CONTEXT, 'mk-ol')))).toBe(false);
  });
});

describe('SecretSealer.rewrap', () => {
  it('moves the data key to the active master key without touching nonce or ciphertext', async () => {
    const sealed = sealerWith([OLD]).sealer.seal(PLAINTEXT, CONTEXT);
    const rotating = sealerWith([NEW, OLD]).sealer;
    const rewrapped = rotating.rewrap(sealed, CONTEXT);
    expect(rewrapped).toBeDefined();
    if (rewrapped === undefined) return;
    expect(rewrapped.masterKeyId).toBe('mk-new');
    expect(rewrapped.formatVersion).toBe(1);
    expect(Buffer.from(rewrapped.nonce).equals(Buffer.from(sealed.nonce))).toBe(true);
    expect(Buffer.from(rewrapped.ciphertext).equals(Buffer.from(sealed.ciphertext))).toBe(true);
    expect(rewrapped.wrappedKey).toHaveLength(sealed.wrappedKey.length);
    expect(Buffer.from(rewrapped.wrappedKey).equals(Buffer.from(sealed.wrappedKey))).toBe(false);

    const newOnly = sealerWith([NEW]);
    await expect(newOnly.sealer.withPlaintext(rewrapped, CONTEXT, (p) => p)).resolves.toBe(PLAINTEXT);
    // The old record needs the old key, which the new-only ring does not hold.
    await expectOpenFails(newOnly.sealer, newOnly.logger, sealed, CONTEXT);
    // A rewrapped record stays bound to its context.
    await expectOpenFails(newOnly.sealer, newOnly.logger, rewrapped, { ...CONTEXT, ownerId: 'cred_b2' });
  });

  it('returns undefined for a record already on the active key', () => {
    const { sealer } = sealerWith([NEW, OLD]);
    const sealed = sealer.seal(PLAINTEXT, CONTEXT);
    expect(sealed.masterKeyId).toBe('mk-new');
    expect(sealer.rewrap(sealed, CONTEXT)).toBeUndefined();
  });

  it('fails closed for a record under a key the ring does not hold', () => {
    const sealed = sealerWith([OTHER]).sealer.seal(PLAINTEXT, CONTEXT);
    const { sealer, logger } = sealerWith([NEW, OLD]);
    expectUnavailable(thrownBy(() => sealer.rewrap(sealed, CONTEXT)));
    expect(logger.warn).toHaveBeenCalledWith(expect.objectContaining({ reason: 'unknown_master_key' }), expect.any(String));
  });

  it('fails closed for a record in another context or with a tampered wrapped key', () => {
    const sealed = sealerWith([OLD]).sealer.seal(PLAINTEXT, CONTEXT);
    const { sealer } = sealerWith([NEW, OLD]);
    expectUnavailable(thrownBy(() => sealer.rewrap(sealed, { ...CONTEXT, orgId: 'org_b2' })));
    expectUnavailable(thrownBy(() => sealer.rewrap({ ...sealed, wrappedKey: flipped(sealed.wrappedKey, 30) }, CONTEXT)));
  });

  it('fails closed for an unknown format even when the key id is the active one', () => {
    const { sealer } = sealerWith([NEW, OLD]);
    const sealed = sealer.seal(PLAINTEXT, CONTEXT);
    expectUnavailable(thrownBy(() => sealer.rewrap({ ...sealed, formatVersion: 2 }, CONTEXT)));
  });
});

describe('SecretSealer failure hygiene', () => {
  const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
  const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');

  function containsBytes(value: unknown): boolean {
    if (value instanceof Uint8Array || ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return true;
    if (Array.isArray(value)) return value.some(containsBytes);
    if (value !== null && typeof value === 'object') return Object.values(value).some(containsBytes);
    return false;
  }

  function serialize(value: unknown): string {
    return String(
      JSON.stringify(value, (_key, v: unknown) =>
        v instanceof Uint8Array ? `${Buffer.from(v).toString('base64')}|${Buffer.from(v).toString('hex')}` : v,
      ),
    );
  }

  it('keeps the plaintext and the record bytes out of errors and logs', async () => {
    const { sealer: sealing } = sealerWith([OLD]);
    const sealed = sealing.seal(PLAINTEXT, CONTEXT);
    const wrongKey = sealerWith([OLD_IMPOSTOR]);
    const { sealer, logger } = sealerWith([OLD, OTHER]);

    const errors: unknown[] = [];
    const collect = async (s: SecretSealer, record: SealedSecret, context: SecretContext) => {
      errors.push(await s.withPlaintext(record, context, (p) => p).catch((e: unknown) => e));
    };
    await collect(sealer, { ...sealed, ciphertext: flipped(sealed.ciphertext, 3) }, CONTEXT);
    await collect(sealer, { ...sealed, nonce: flipped(sealed.nonce, 3) }, CONTEXT);
    await collect(sealer, { ...sealed, wrappedKey: flipped(sealed.wrappedKey, 3) }, CONTEXT);
    await collect(sealer, { ...sealed, formatVersion: 2 }, CONTEXT);
    await collect(sealer, { ...sealed, masterKeyId: OTHER.id }, CONTEXT);
    await collect(sealer, { ...sealed, ciphertext: new Uint8Array(0) }, CONTEXT);
    await collect(sealer, sealed, { ...CONTEXT, field: 'other' });
    await collect(wrongKey.sealer, sealed, CONTEXT);

    const secrets = [PLAINTEXT, b64(sealed.ciphertext), hex(sealed.ciphertext), b64(sealed.wrappedKey), hex(sealed.wrappedKey)];
    for (const error of errors) {
      expectUnavailable(error);
      const e = error as SecretUnavailableError;
      const surfaces = [e.message, JSON.stringify(e), e.stack ?? '', String(e), serialize((e as { errors?: unknown }).errors)];
      for (const surface of surfaces) for (const secret of secrets) expect(surface).not.toContain(secret);
    }

    const calls = [...logger.warn.mock.calls, ...wrongKey.logger.warn.mock.calls];
    expect(calls).toHaveLength(errors.length);
    for (const args of calls) {
      expect(containsBytes(args)).toBe(false);
      const text = serialize(args);
      for (const secret of secrets) expect(text).not.toContain(secret);
      expect(text).not.toContain(PLAINTEXT.slice(0, 12));
      expect(args[0]).toEqual(
        expect.objectContaining({
          reason: expect.any(String),
          org_id: CONTEXT.orgId,
          owner_id: CONTEXT.ownerId,
          field: expect.any(String),
          master_key_id: expect.any(String),
        }),
      );
    }
    expect(logger.info).not.toHaveBeenCalled();
    expect(logger.error).not.toHaveBeenCalled();
    expect(logger.debug).not.toHaveBeenCalled();
  });

  it('logs where the failed record belongs and why', async () => {
    const sealed = sealerWith([OLD]).sealer.seal(PLAINTEXT, CONTEXT);
    const { sealer, logger } = sealerWith([OLD]);
    const moved: SecretContext = { orgId: 'org_b2', ownerId: 'cred_b2', field: 'api_key' };
    await expect(sealer.withPlaintext(sealed, moved, (p) => p)).rejects.toBeInstanceOf(SecretUnavailableError);
    expect(logger.warn).toHaveBeenCalledTimes(1);
    expect(logger.warn).toHaveBeenCalledWith(
      {
        reason: 'data_key_rejected',
        org_id: 'org_b2',
        owner_id: 'cred_b2',
        field: 'api_key',
        master_key_id: 'mk-old',
        format_version: 1,
      },
      expect.any(String),
    );
  });

  it('propagates an error thrown by `use` unchanged', async () => {
    const { sealer } = sealerWith([OLD]);
    const sealed = sealer.seal(PLAINTEXT, CONTEXT);
    const error = await sealer
      .withPlaintext(sealed, CONTEXT, () => {
        throw new Error('upstream said no');
      })
      .catch((e: unknown) => e);
    expect(error).toEqual(new Error('upstream said no'));
  });
});

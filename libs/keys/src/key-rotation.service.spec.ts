import { jest } from '@jest/globals';
import type { Transaction, UnitOfWork } from '#agentplane/db';
import type { Logger } from '#agentplane/logging';
import { InstancesLackActiveKeyError, KeyRotationService } from './key-rotation.service.js';
import type { MasterKeyHolder, MasterKeyHolderRepository } from './master-key-holder.repository.js';
import { MasterKeyRing } from './master-key-ring.js';
import type { SealedSecret, SecretContext } from './secret-context.js';
import { type SealedRecord, type SealedRecordStore, SealedRecordStores } from './sealed-record-store.js';
import { SecretSealer } from './secret-sealer.js';
import { Sodium } from './sodium.js';

const OLD = { id: 'old', key: new Uint8Array(32).fill(1) };
const NEW = { id: 'new', key: new Uint8Array(32).fill(2) };
const ORG = 'org_test';

const logger = { info: jest.fn(), warn: jest.fn(), error: jest.fn() } as unknown as Logger;
let sodium: Sodium;

beforeAll(async () => {
  sodium = await Sodium.load();
});

const contextOf = (id: string): SecretContext => ({ orgId: ORG, ownerId: id, field: 'api_key' });

/**
 * An in-memory stand-in for a table of sealed records with the one behaviour rewrap relies on: rows
 * "locked" by someone else are skipped (SKIP LOCKED) until they are released.
 */
class FakeStore implements SealedRecordStore {
  readonly name = 'fake';
  readonly rows = new Map<string, SealedSecret>();
  readonly locked = new Set<string>();
  batches = 0;
  /** Called after each batch, to let a test release locks as time passes. */
  afterBatch: () => void = () => undefined;

  async countByMasterKey(): Promise<Map<string, number>> {
    const counts = new Map<string, number>();
    for (const sealed of this.rows.values()) counts.set(sealed.masterKeyId, (counts.get(sealed.masterKeyId) ?? 0) + 1);
    return counts;
  }

  async rewrapBatch(
    _tx: Transaction,
    activeKeyId: string,
    afterId: string,
    limit: number,
    rewrap: (record: SealedRecord) => SealedSecret | undefined,
  ): Promise<{ seen: string[]; rewrapped: number }> {
    this.batches++;
    const ids = [...this.rows.keys()]
      .sort()
      .filter((id) => id > afterId && this.rows.get(id)!.masterKeyId !== activeKeyId && !this.locked.has(id))
      .slice(0, limit);
    let rewrapped = 0;
    for (const id of ids) {
      const next = rewrap({ id, context: contextOf(id), sealed: this.rows.get(id)! });
      if (next !== undefined) {
        this.rows.set(id, next);
        rewrapped++;
      }
    }
    this.afterBatch();
    return { seen: ids, rewrapped };
  }

  async scan(afterId: string, limit: number): Promise<SealedRecord[]> {
    const ids = [...this.rows.keys()]
      .sort()
      .filter((id) => id > afterId)
      .slice(0, limit);
    return ids.map((id) => ({ id, context: contextOf(id), sealed: this.rows.get(id)! }));
  }
}

function setUp(holders: MasterKeyHolder[] = []) {
  const oldSealer = new SecretSealer(sodium, new MasterKeyRing([OLD], 'test'), logger);
  const ring = new MasterKeyRing([NEW, OLD], 'test');
  const sealer = new SecretSealer(sodium, ring, logger);
  const credentials = new FakeStore();
  const stores = new SealedRecordStores();
  stores.register(credentials);
  for (let i = 0; i < 10; i++) {
    const id = `cred_${String(i).padStart(2, '0')}`;
    credentials.rows.set(id, oldSealer.seal(`secret-${i}`, contextOf(id)));
  }
  const live = { live: jest.fn(async () => holders) };
  const clock = { now: () => new Date(), monotonicMs: () => 0, sleep: jest.fn(async () => undefined) };
  // The fake store needs no transaction; the unit of work only hands one through.
  const uow = { transaction: <T>(work: (tx: Transaction) => Promise<T>) => work({} as Transaction) } as unknown as UnitOfWork;
  const service = new KeyRotationService(uow, stores, sealer, ring, live as unknown as MasterKeyHolderRepository, clock, logger);
  return { service, sealer, credentials, live, clock };
}

async function openAll(sealer: SecretSealer, credentials: FakeStore): Promise<string[]> {
  const out: string[] = [];
  for (const [id, sealed] of [...credentials.rows].sort(([a], [b]) => a.localeCompare(b))) {
    out.push(await sealer.withPlaintext(sealed, contextOf(id), (p) => p));
  }
  return out;
}

describe('KeyRotationService.rewrap', () => {
  it('moves every record to the active key in batches, and every secret still opens', async () => {
    const { service, sealer, credentials } = setUp();
    const report = await service.rewrap(3);
    expect(report).toEqual({ rewrapped: 10, failed: 0, remaining: 0 });
    expect([...(await credentials.countByMasterKey())]).toEqual([['new', 10]]);
    expect(await openAll(sealer, credentials)).toEqual(Array.from({ length: 10 }, (_, i) => `secret-${i}`));
  });

  it('changes only the wrapped data key: the sealed secret itself is untouched', async () => {
    const { service, credentials } = setUp();
    const before = new Map([...credentials.rows].map(([id, s]) => [id, Buffer.from(s.ciphertext).toString('hex')]));
    await service.rewrap(4);
    for (const [id, sealed] of credentials.rows) expect(Buffer.from(sealed.ciphertext).toString('hex')).toBe(before.get(id));
  });

  it('comes back for rows another process held during the first pass', async () => {
    const { service, credentials, clock } = setUp();
    credentials.locked.add('cred_02').add('cred_07');
    // The other holder commits while this run is waiting between passes.
    clock.sleep.mockImplementation(async () => {
      credentials.locked.clear();
    });
    const report = await service.rewrap(4);
    expect(report).toEqual({ rewrapped: 10, failed: 0, remaining: 0 });
    expect(clock.sleep).toHaveBeenCalledTimes(1);
  });

  it('gives up after a few passes and reports what another process still holds', async () => {
    const { service, credentials, clock } = setUp();
    credentials.locked.add('cred_05');
    const report = await service.rewrap(4);
    expect(report).toEqual({ rewrapped: 9, failed: 0, remaining: 1 });
    expect(clock.sleep).toHaveBeenCalledTimes(4);
  });

  it('counts a record that does not open as failed once, leaves it as it was, and does not loop on it', async () => {
    const { service, credentials, clock } = setUp();
    const damaged = credentials.rows.get('cred_04')!;
    const tampered = { ...damaged, wrappedKey: damaged.wrappedKey.map((b, i) => (i === 30 ? b ^ 1 : b)) };
    credentials.rows.set('cred_04', tampered);
    const report = await service.rewrap(4);
    expect(report).toEqual({ rewrapped: 9, failed: 1, remaining: 1 });
    expect(credentials.rows.get('cred_04')).toBe(tampered);
    expect(clock.sleep).not.toHaveBeenCalled();
  });

  it('refuses before touching anything while a live instance lacks the active key', async () => {
    const lagging = { instanceId: 'i1', hostname: 'web-1', pid: 42, keyIds: ['old'], activeKeyId: 'old' };
    const { service, credentials } = setUp([lagging]);
    const error = await service.rewrap(4).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InstancesLackActiveKeyError);
    expect((error as Error).message).toContain('1 running instance(s) do not hold master key "new" (web-1 pid 42)');
    expect(credentials.batches).toBe(0);
    expect([...(await credentials.countByMasterKey())]).toEqual([['old', 10]]);
  });

  it('stops between batches when a lagging instance appears mid-run', async () => {
    const { service, credentials, live } = setUp();
    credentials.afterBatch = () => {
      live.live.mockResolvedValue([{ instanceId: 'i2', hostname: 'web-2', pid: 7, keyIds: ['old'], activeKeyId: 'old' }]);
    };
    await expect(service.rewrap(4)).rejects.toBeInstanceOf(InstancesLackActiveKeyError);
    expect(credentials.batches).toBe(1);
    expect((await credentials.countByMasterKey()).get('new')).toBe(4);
  });

  it('goes ahead when every live instance holds the active key', async () => {
    const ready = { instanceId: 'i1', hostname: 'web-1', pid: 42, keyIds: ['new', 'old'], activeKeyId: 'new' };
    const { service } = setUp([ready]);
    await expect(service.rewrap(5)).resolves.toEqual({ rewrapped: 10, failed: 0, remaining: 0 });
  });
});

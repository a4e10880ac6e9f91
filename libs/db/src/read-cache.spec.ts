import { ReadCache } from './read-cache.js';
import type { UnitOfWork } from './unit-of-work.js';

/** A unit of work whose epoch the test moves, as ending a transaction would. */
function unitOfWork() {
  const state = { epoch: 0 };
  return {
    uow: {
      get writeEpoch() {
        return state.epoch;
      },
    } as unknown as UnitOfWork,
    state,
  };
}

describe('ReadCache', () => {
  it('serves a read again until this process ends a transaction', async () => {
    const { uow, state } = unitOfWork();
    const cache = new ReadCache<{ v: number }>(uow, { max: 10, ttlMs: 60_000 });
    let loads = 0;
    const load = async () => ({ v: ++loads });
    expect(await cache.get('org/a', load)).toEqual({ v: 1 });
    expect(await cache.get('org/a', load)).toEqual({ v: 1 });
    state.epoch++;
    expect(await cache.get('org/a', load)).toEqual({ v: 2 });
    expect(await cache.get('org/b', load)).toEqual({ v: 3 });
  });

  it('does not keep a read during which a transaction ended', async () => {
    const { uow, state } = unitOfWork();
    const cache = new ReadCache<{ v: number }>(uow, { max: 10, ttlMs: 60_000 });
    let loads = 0;
    // The write lands while the read is in flight: what it read may be from before the write.
    expect(await cache.get('k', async () => (state.epoch++, { v: ++loads }))).toEqual({ v: 1 });
    expect(await cache.get('k', async () => ({ v: ++loads }))).toEqual({ v: 2 });
    expect(await cache.get('k', async () => ({ v: ++loads }))).toEqual({ v: 2 });
  });

  it('reads again once the time to live is over, and never keeps a miss', async () => {
    let now = 1_000_000;
    const { uow } = unitOfWork();
    const cache = new ReadCache<{ v: number }>(uow, { max: 10, ttlMs: 900, now: () => now });
    let loads = 0;
    const load = async () => ({ v: ++loads });
    await cache.get('k', load);
    now += 899;
    expect(await cache.get('k', load)).toEqual({ v: 1 });
    now += 2;
    expect(await cache.get('k', load)).toEqual({ v: 2 });
    let misses = 0;
    const missing = async () => (misses++, undefined);
    expect(await cache.get('gone', missing)).toBeUndefined();
    expect(await cache.get('gone', missing)).toBeUndefined();
    expect(misses).toBe(2);
  });

  it('shares one read among concurrent misses of a key, but not across a write', async () => {
    const { uow, state } = unitOfWork();
    const cache = new ReadCache<{ v: number }>(uow, { max: 10, ttlMs: 60_000 });
    let loads = 0;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const load = async () => {
      const v = ++loads;
      await gate;
      return { v };
    };
    const first = [cache.get('k', load), cache.get('k', load)];
    state.epoch++;
    const after = cache.get('k', load);
    release();
    expect(await Promise.all([...first, after])).toEqual([{ v: 1 }, { v: 1 }, { v: 2 }]);
    expect(loads).toBe(2);
  });

  it('counts an entry’s life from when its read began, and keeps no read that began before a clear', async () => {
    let now = 0;
    const { uow } = unitOfWork();
    const cache = new ReadCache<{ v: number }>(uow, { max: 10, ttlMs: 900, now: () => now });
    let loads = 0;
    // A read that takes 400 ms: served for the 500 ms left of its 900, not 900 more.
    await cache.get('k', async () => ((now += 400), { v: ++loads }));
    now += 499;
    expect(await cache.get('k', async () => ({ v: ++loads }))).toEqual({ v: 1 });
    now += 2;
    expect(await cache.get('k', async () => ({ v: ++loads }))).toEqual({ v: 2 });

    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const inFlight = cache.get('j', async () => (await gate, { v: ++loads }));
    cache.clear();
    release();
    expect(await inFlight).toEqual({ v: 3 });
    expect(await cache.get('j', async () => ({ v: ++loads }))).toEqual({ v: 4 });
  });

  it('drops the least recently used entries past the size bound', async () => {
    const { uow } = unitOfWork();
    const cache = new ReadCache<{ v: number; size: number }>(uow, { max: 10, ttlMs: 60_000, maxSize: 100, sizeOf: (x) => x.size });
    let loads = 0;
    const load = (size: number) => async () => ({ v: ++loads, size });
    await cache.get('a', load(60));
    await cache.get('b', load(60));
    expect(await cache.get('b', load(60))).toEqual({ v: 2, size: 60 });
    expect(await cache.get('a', load(60))).toEqual({ v: 3, size: 60 });
  });
});

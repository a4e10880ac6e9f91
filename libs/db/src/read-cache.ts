import { performance } from 'node:perf_hooks';
import { LRUCache } from 'lru-cache';

/** What moves when this process has changed something a cache may hold (the unit of work does at every transaction's end). */
export interface WriteEpoch {
  readonly writeEpoch: number;
}

export interface ReadCacheOptions<V> {
  /** Entries kept at most (least recently used go first). */
  readonly max: number;
  /** How long a read may be served, counted from when it began: the bound on seeing a change another process made. */
  readonly ttlMs: number;
  /** With `sizeOf`: the most the entries may weigh together (least recently used go first). */
  readonly maxSize?: number;
  readonly sizeOf?: (value: V) => number;
  /** The monotonic clock in milliseconds (tests move their own). */
  readonly now?: () => number;
}

/**
 * Reads served again for a short while: a bounded LRU whose entries last `ttlMs` from when their
 * read began, and only while `writes` has not moved since (given the unit of work: while this
 * process has ended no transaction). A change made through
 * this process is seen by the very next read; one made by another instance, within `ttlMs`.
 * Concurrent misses of one key share one read, so an entry that expires under load costs one
 * query, not one per waiting request. Keys must carry the tenant (`orgId/id`).
 */
export class ReadCache<V extends object> {
  private readonly entries: LRUCache<string, { readonly value: V; readonly epoch: number }>;
  private readonly loading = new Map<string, { readonly epoch: number; readonly read: Promise<V | undefined> }>();
  private readonly now: () => number;
  /** Moved by clear(): a read that began before it is not kept. */
  private generation = 0;

  constructor(
    private readonly writes: WriteEpoch,
    private readonly options: ReadCacheOptions<V>,
  ) {
    this.now = options.now ?? (() => performance.now());
    const sizeOf = options.sizeOf;
    this.entries = new LRUCache({
      max: options.max,
      ttl: options.ttlMs,
      // Expired entries are dropped when they expire, not when the LRU next needs the room.
      ttlAutopurge: true,
      // Asked at every read rather than cached for a millisecond: the bound is exact.
      ttlResolution: 0,
      perf: { now: this.now },
      ...(sizeOf === undefined || options.maxSize === undefined
        ? {}
        : { maxSize: options.maxSize, sizeCalculation: (entry) => Math.max(1, sizeOf(entry.value)) }),
    });
  }

  async get(key: string, load: () => Promise<V | undefined>): Promise<V | undefined> {
    const hit = this.entries.get(key);
    if (hit !== undefined && hit.epoch === this.writes.writeEpoch) return hit.value;
    // Noted before the read: a write that ends while it runs makes the entry stale at once, and
    // the entry's life counts from here, not from when the read came back.
    const epoch = this.writes.writeEpoch;
    const pending = this.loading.get(key);
    if (pending !== undefined && pending.epoch === epoch) return pending.read;
    const generation = this.generation;
    const start = this.now();
    const read = load();
    this.loading.set(key, { epoch, read });
    try {
      const value = await read;
      const left = this.options.ttlMs - (this.now() - start);
      if (value === undefined) this.entries.delete(key);
      else if (generation === this.generation && left > 0) this.entries.set(key, { value, epoch }, { ttl: left });
      return value;
    } finally {
      if (this.loading.get(key)?.read === read) this.loading.delete(key);
    }
  }

  /** Forgets every entry, and every read in flight, for a change made outside a transaction. */
  clear(): void {
    this.generation++;
    this.entries.clear();
    this.loading.clear();
  }
}

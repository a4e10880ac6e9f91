import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ReplySummary } from '#agentplane/runtime';

/** How busy the database pool is, read at every scrape. */
export interface PoolUse {
  /** Connections open, idle or serving a query. */
  readonly open: number;
  readonly idle: number;
  /** Callers waiting for a connection. */
  readonly waiting: number;
  readonly max: number;
}

export interface MetricsOptions {
  /**
   * Node's own metrics (event-loop lag, CPU, memory, GC, handles): off in a process nothing
   * scrapes, since the event-loop monitor wakes the loop on a timer.
   */
  readonly process: boolean;
}

const SECONDS_HTTP = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];
// The first-token deadline defaults to 20 s and a whole attempt to 300 s.
const SECONDS_TTFT = [0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 20, 30];
const SECONDS_REPLY = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300];
/** The api label of a reply that tried no entry (an agent without llm entries). */
const NO_API = 'none';

/**
 * The process's Prometheus instruments, in a registry of its own (never prom-client's global
 * one, so instances and tests do not share counters). Labels are bounded sets: route templates,
 * methods, statuses, llm apis and reply outcomes, never ids or raw URLs. No I/O: the metrics
 * listener serves `registry`. Provided by MetricsModule.
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly httpDuration = new Histogram<'method' | 'route' | 'status'>({
    name: 'agentplane_http_request_duration_seconds',
    help: 'HTTP requests answered by the API, by route template, method and status (a streamed reply until its end).',
    labelNames: ['method', 'route', 'status'],
    buckets: SECONDS_HTTP,
    registers: [this.registry],
  });
  private readonly repliesOpen = new Gauge({
    name: 'agentplane_replies_open',
    help: 'Replies in progress (streamed or not).',
    registers: [this.registry],
  });
  private readonly replyTtft = new Histogram<'api' | 'outcome'>({
    name: 'agentplane_reply_ttft_seconds',
    help: 'Time from the start of a reply to the first token relayed, by the api of the last entry tried and how the reply ended.',
    labelNames: ['api', 'outcome'],
    buckets: SECONDS_TTFT,
    registers: [this.registry],
  });
  private readonly replyDuration = new Histogram<'api' | 'outcome'>({
    name: 'agentplane_reply_duration_seconds',
    help: 'Duration of replies, by the api of the last entry tried (none when the agent has no entries) and how the reply ended.',
    labelNames: ['api', 'outcome'],
    buckets: SECONDS_REPLY,
    registers: [this.registry],
  });
  private readonly upstreamAttempts = new Counter<'api' | 'outcome'>({
    name: 'agentplane_upstream_attempts_total',
    help: 'Calls to llm entries, by api and outcome: completed, cancelled or the failure code.',
    labelNames: ['api', 'outcome'],
    registers: [this.registry],
  });
  private pool: (() => PoolUse) | undefined;
  private lostRecords: (() => number) | undefined;

  constructor(options: MetricsOptions = { process: false }) {
    if (options.process) collectDefaultMetrics({ register: this.registry });
    const pool = (): PoolUse | undefined => this.pool?.();
    const lost = (): number => this.lostRecords?.() ?? 0;
    new Counter({
      name: 'agentplane_reply_records_dropped_total',
      help: 'Reply records dropped without being written (the queue was full, or the write of their batch failed).',
      registers: [this.registry],
      // The recorder keeps the count; a scrape copies it.
      collect() {
        this.reset();
        this.inc(lost());
      },
    });
    new Gauge<'state'>({
      name: 'agentplane_db_pool_connections',
      help: 'Database connections of the pool, by state (idle or in_use). Embedded storage has one.',
      labelNames: ['state'],
      registers: [this.registry],
      collect() {
        const use = pool();
        if (use === undefined) return;
        this.set({ state: 'idle' }, use.idle);
        this.set({ state: 'in_use' }, use.open - use.idle);
      },
    });
    new Gauge({
      name: 'agentplane_db_pool_waiting',
      help: 'Queries waiting for a database connection.',
      registers: [this.registry],
      collect() {
        const use = pool();
        if (use !== undefined) this.set(use.waiting);
      },
    });
    new Gauge({
      name: 'agentplane_db_pool_max_connections',
      help: 'The most connections the database pool opens (1 with embedded storage).',
      registers: [this.registry],
      collect() {
        const use = pool();
        if (use !== undefined) this.set(use.max);
      },
    });
  }

  /** Reports the database pool at every scrape. */
  watchPool(read: () => PoolUse): void {
    this.pool = read;
  }

  /** One answered request. `route` is the route's template (`unmatched` for none), never the URL. */
  observeHttp(route: string, method: string, status: number, seconds: number): void {
    // About 0.4 µs: caching a child per label set measured slower (prom-client hashes the labels either way).
    this.httpDuration.observe({ method, route, status: String(status) }, seconds);
  }

  replyStarted(): void {
    this.repliesOpen.inc();
  }

  replyEnded(summary: ReplySummary): void {
    this.repliesOpen.dec();
    const labels = { api: summary.api ?? NO_API, outcome: summary.outcome };
    this.replyDuration.observe(labels, summary.durationMs / 1000);
    if (summary.ttftMs !== null) this.replyTtft.observe(labels, summary.ttftMs / 1000);
    for (const attempt of summary.attempts) this.upstreamAttempts.inc({ api: attempt.api, outcome: attempt.outcome });
  }

  /** Reports, at every scrape, how many reply records were lost so far (a count that only grows). */
  watchLostRecords(read: () => number): void {
    this.lostRecords = read;
  }
}

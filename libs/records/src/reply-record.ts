import type { ReplySummary } from '#agentplane/runtime';

/** A reply as it was recorded: its summary, under the record's id, without the organization it belongs to. */
export interface ReplyRecord extends Omit<ReplySummary, 'orgId'> {
  readonly id: string;
}

export type UsageGroupBy = 'agent' | 'day';

/** What the usage of a set of replies adds up to. */
export interface UsageFigures {
  readonly replies: number;
  readonly completed: number;
  readonly cancelled: number;
  /** Replies that ended with an error, of every code. */
  readonly failed: number;
  /** How many replies ended with each error code. */
  readonly errors: Readonly<Record<string, number>>;
  /** Percentiles of time to first token over the replies that relayed something; null with none. */
  readonly ttftMs: { readonly p50: number | null; readonly p95: number | null };
  readonly tokens: { readonly input: number; readonly output: number; readonly total: number };
}

/** One group of a usage report: an agent id, or a UTC day as `YYYY-MM-DD`. */
export interface UsageGroup extends UsageFigures {
  readonly key: string;
}

/** The usage of the replies that started in `[from, to)`. */
export interface UsageReport {
  readonly from: Date;
  readonly to: Date;
  readonly groupBy: UsageGroupBy;
  readonly groups: readonly UsageGroup[];
  readonly totals: UsageFigures;
}

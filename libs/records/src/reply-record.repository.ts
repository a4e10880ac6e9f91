import { Injectable } from '@nestjs/common';
import type { OrgId } from '#agentplane/auth';
import { keysetQuery, newId, type Page, type PageRequest, Prisma, PrismaService, toPage } from '#agentplane/db';
import type { LlmApi } from '#agentplane/endpoints';
import type { AttemptSummary, ReplyOutcome, ReplySummary } from '#agentplane/runtime';
import type { ReplyRecord, UsageFigures, UsageGroup, UsageGroupBy } from './reply-record.js';

/** An attempt as the `attempts` column holds it (a type, not an interface: Prisma's JSON input wants one). */
type StoredAttempt = {
  readonly entry_index: number;
  readonly api: string;
  readonly model: string;
  readonly outcome: string;
  readonly duration_ms: number;
};

const RECORD = {
  id: true,
  agentId: true,
  requestId: true,
  stream: true,
  outcome: true,
  entryIndex: true,
  api: true,
  model: true,
  attempts: true,
  ttftMs: true,
  durationMs: true,
  inputTokens: true,
  outputTokens: true,
  totalTokens: true,
  startedAt: true,
} as const;

// What a usage group is keyed by: fixed fragments, never text from a request.
const GROUP_KEYS: Readonly<Record<UsageGroupBy, Prisma.Sql>> = {
  agent: Prisma.sql`agent_id`,
  day: Prisma.sql`to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')`,
};

/** A row of the usage query: one group, or (with `total`) the whole window. */
interface UsageRow {
  readonly key: string | null;
  readonly total: boolean;
  readonly replies: number;
  readonly completed: number;
  readonly cancelled: number;
  readonly ttft_p50: number | null;
  readonly ttft_p95: number | null;
  readonly input_tokens: number;
  readonly output_tokens: number;
  readonly total_tokens: number;
  readonly errors: Record<string, number> | null;
}

/** The reply_records table. */
@Injectable()
export class ReplyRecordRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** Writes a batch in one statement. A batch spans organizations: each summary names its own. */
  async insert(summaries: readonly ReplySummary[]): Promise<void> {
    await this.prisma.replyRecord.createMany({
      data: summaries.map((s) => ({
        id: newId('rec'),
        orgId: s.orgId satisfies OrgId,
        agentId: s.agentId,
        requestId: s.requestId,
        stream: s.stream,
        outcome: s.outcome,
        entryIndex: s.entryIndex,
        api: s.api,
        model: s.model,
        attempts: s.attempts.map((a): StoredAttempt => ({
          entry_index: a.entryIndex,
          api: a.api,
          model: a.model,
          outcome: a.outcome,
          duration_ms: a.durationMs,
        })),
        ttftMs: s.ttftMs,
        durationMs: s.durationMs,
        inputTokens: s.usage?.input_tokens ?? null,
        outputTokens: s.usage?.output_tokens ?? null,
        totalTokens: s.usage?.total_tokens ?? null,
        startedAt: s.startedAt,
      })),
    });
  }

  /** A page of an agent's records, newest first (by when the reply started). */
  async listPage(orgId: OrgId, agentId: string, page: PageRequest): Promise<Page<ReplyRecord>> {
    const query = keysetQuery(page, 'startedAt');
    const rows = await this.prisma.replyRecord.findMany({
      where: { orgId, agentId, ...query.where },
      orderBy: query.orderBy,
      take: query.take,
      select: RECORD,
    });
    return toPage(rows, page, toRecord, 'startedAt');
  }

  /**
   * The usage of the organization's replies that started in `[from, to)`, per group and in all
   * (the row with `total`), ordered by key. One statement, so the groups, the totals and the
   * error counts all come from the same snapshot.
   */
  async usage(orgId: OrgId, from: Date, to: Date, groupBy: UsageGroupBy): Promise<{ groups: UsageGroup[]; totals: UsageFigures }> {
    const rows = await this.prisma.$queryRaw<UsageRow[]>`
      WITH r AS (
        SELECT ${GROUP_KEYS[groupBy]} AS key, outcome, ttft_ms, input_tokens, output_tokens, total_tokens
          FROM reply_records
         WHERE org_id = ${orgId} AND started_at >= ${from} AND started_at < ${to}
      ), figures AS (
        SELECT key, GROUPING(key) = 1 AS total,
               count(*)::int AS replies,
               (count(*) FILTER (WHERE outcome = 'completed'))::int AS completed,
               (count(*) FILTER (WHERE outcome = 'cancelled'))::int AS cancelled,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY ttft_ms) AS ttft_p50,
               percentile_cont(0.95) WITHIN GROUP (ORDER BY ttft_ms) AS ttft_p95,
               COALESCE(sum(input_tokens), 0)::float8 AS input_tokens,
               COALESCE(sum(output_tokens), 0)::float8 AS output_tokens,
               COALESCE(sum(total_tokens), 0)::float8 AS total_tokens
          FROM r GROUP BY GROUPING SETS ((key), ())
      ), errors AS (
        SELECT key, GROUPING(key) = 1 AS total, outcome, count(*)::int AS n
          FROM r WHERE outcome NOT IN ('completed', 'cancelled')
         GROUP BY GROUPING SETS ((key, outcome), (outcome))
      )
      SELECT f.*,
             (SELECT json_object_agg(e.outcome, e.n ORDER BY e.outcome) FROM errors e
               WHERE e.total = f.total AND e.key IS NOT DISTINCT FROM f.key) AS errors
        FROM figures f
       ORDER BY f.total, f.key`;
    const groups = rows.filter((row) => !row.total).map((row) => ({ key: row.key ?? '', ...toFigures(row) }));
    const total = rows.find((row) => row.total);
    return { groups, totals: total === undefined ? NO_USAGE : toFigures(total) };
  }

  /** Deletes up to `batch` records of every organization that started before `cutoff`; returns how many. */
  async pruneOlderThan(cutoff: Date, batch: number): Promise<number> {
    return this.prisma.$executeRaw`
      DELETE FROM reply_records WHERE ctid IN (
        SELECT ctid FROM reply_records WHERE started_at < ${cutoff} LIMIT ${batch})`;
  }
}

const NO_USAGE: UsageFigures = {
  replies: 0,
  completed: 0,
  cancelled: 0,
  failed: 0,
  errors: {},
  ttftMs: { p50: null, p95: null },
  tokens: { input: 0, output: 0, total: 0 },
};

function toFigures(row: UsageRow): UsageFigures {
  const errors = row.errors ?? {};
  return {
    replies: row.replies,
    completed: row.completed,
    cancelled: row.cancelled,
    failed: Object.values(errors).reduce((sum, n) => sum + n, 0),
    errors,
    ttftMs: { p50: wholeMs(row.ttft_p50), p95: wholeMs(row.ttft_p95) },
    tokens: { input: row.input_tokens, output: row.output_tokens, total: row.total_tokens },
  };
}

// percentile_cont interpolates between two replies; milliseconds are whole everywhere else.
function wholeMs(value: number | null): number | null {
  return value === null ? null : Math.round(value);
}

function toRecord(row: Prisma.ReplyRecordGetPayload<{ select: typeof RECORD }>): ReplyRecord {
  // Written from the runtime's own types (insert above): read back as what they were.
  const attempts = row.attempts as unknown as StoredAttempt[];
  return {
    id: row.id,
    agentId: row.agentId,
    requestId: row.requestId,
    stream: row.stream,
    outcome: row.outcome as ReplyOutcome,
    entryIndex: row.entryIndex,
    api: row.api as LlmApi | null,
    model: row.model,
    attempts: attempts.map((a): AttemptSummary => ({
      entryIndex: a.entry_index,
      api: a.api as LlmApi,
      model: a.model,
      outcome: a.outcome as ReplyOutcome,
      durationMs: a.duration_ms,
    })),
    ttftMs: row.ttftMs,
    durationMs: row.durationMs,
    usage:
      row.inputTokens === null || row.outputTokens === null || row.totalTokens === null
        ? null
        : { input_tokens: row.inputTokens, output_tokens: row.outputTokens, total_tokens: row.totalTokens },
    startedAt: row.startedAt,
  };
}

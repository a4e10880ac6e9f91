import type { INestApplicationContext } from '@nestjs/common';
import { ApiKeyService, type OrgId } from '#agentplane/auth';
import { newId, PrismaService } from '#agentplane/db';
import { CommonErrorCode } from '#agentplane/errors';
import { RecordsModule, RecordsService, ReplyRecorder } from '#agentplane/records';
import { type AttemptSummary, type ReplySummary, RuntimeErrorCode } from '#agentplane/runtime';

const { Status, FirstTokenTimeout, NoLlmConfigured } = RuntimeErrorCode;
import { createServiceContext } from '../support/nest-context.js';
import { createTestStorage, type TestStorage } from '../support/storage.js';

const at = (iso: string) => new Date(iso);
const attempt = (entryIndex: number, outcome: AttemptSummary['outcome'], durationMs: number): AttemptSummary => ({
  entryIndex,
  api: entryIndex === 0 ? 'chat_completions' : 'anthropic',
  model: entryIndex === 0 ? 'gpt-4o-mini' : 'claude-haiku-4-5',
  outcome,
  durationMs,
});
const usage = (input: number, output: number) => ({ input_tokens: input, output_tokens: output, total_tokens: input + output });

/** A reply of `agentId` as the runtime summarizes it; the rest of the fields follow from the attempts. */
function reply(
  orgId: OrgId,
  agentId: string,
  startedAt: Date,
  attempts: AttemptSummary[],
  extra: Partial<ReplySummary> & Pick<ReplySummary, 'outcome'>,
): ReplySummary {
  const last = attempts.at(-1);
  return {
    orgId,
    agentId,
    requestId: `req_${startedAt.getTime()}`,
    stream: true,
    entryIndex: last?.entryIndex ?? null,
    api: last?.api ?? null,
    model: last?.model ?? null,
    attempts,
    ttftMs: null,
    durationMs: attempts.reduce((sum, a) => sum + a.durationMs, 0),
    usage: null,
    startedAt,
    ...extra,
  };
}

describe('reply records against a real database', () => {
  let storage: TestStorage;
  let ctx: INestApplicationContext;
  let orgA: OrgId;
  let orgB: OrgId;
  let agentId: string;
  let records: RecordsService;
  let recorder: ReplyRecorder;
  const GONE = 'agt_deletedlongago';

  beforeAll(async () => {
    storage = await createTestStorage();
    ctx = await createServiceContext(storage, { AGENTPLANE_RECORD_RETENTION_DAYS: '1' }, [RecordsModule]);
    orgA = (await ctx.get(ApiKeyService).issue('org-records-a')).orgId;
    orgB = (await ctx.get(ApiKeyService).issue('org-records-b')).orgId;
    // Only its existence matters here: a bare row.
    agentId = (await ctx.get(PrismaService).agent.create({ data: { id: newId('agt'), orgId: orgA, name: 'recorded' } })).id;
    records = ctx.get(RecordsService);
    recorder = ctx.get(ReplyRecorder);

    // Two UTC days of replies with known outcomes, for the agent, for an agent deleted since, and
    // in another organization under the same agent id.
    const summaries = [
      reply(orgA, agentId, at('2026-11-01T10:00:00.000Z'), [attempt(0, 'completed', 400)], {
        outcome: 'completed',
        ttftMs: 100,
        usage: usage(11, 5),
      }),
      reply(orgA, agentId, at('2026-11-01T11:00:00.000Z'), [attempt(0, 'completed', 900)], {
        outcome: 'completed',
        ttftMs: 300,
        usage: usage(11, 9),
        stream: false,
      }),
      reply(orgA, agentId, at('2026-11-01T12:00:00.000Z'), [attempt(0, Status, 30)], { outcome: Status }),
      reply(orgA, agentId, at('2026-11-02T09:00:00.000Z'), [attempt(0, Status, 40), attempt(1, 'completed', 700)], {
        outcome: 'completed',
        ttftMs: 200,
        usage: usage(3, 4),
        model: 'claude-haiku-4-5-20251001',
      }),
      reply(orgA, agentId, at('2026-11-02T10:00:00.000Z'), [attempt(0, 'cancelled', 60)], { outcome: 'cancelled', ttftMs: 50 }),
      reply(orgA, GONE, at('2026-11-02T11:00:00.000Z'), [attempt(0, FirstTokenTimeout, 20_000)], {
        outcome: FirstTokenTimeout,
      }),
      reply(orgA, GONE, at('2026-11-02T12:00:00.000Z'), [attempt(0, 'completed', 800)], {
        outcome: 'completed',
        ttftMs: 400,
        usage: usage(1, 1),
      }),
      reply(orgA, GONE, at('2026-11-02T13:00:00.000Z'), [], { outcome: NoLlmConfigured, requestId: null }),
      reply(orgB, agentId, at('2026-11-01T10:30:00.000Z'), [attempt(0, Status, 10)], { outcome: Status }),
    ];
    for (const summary of summaries) expect(recorder.record(summary)).toBe(true);
    await recorder.flush();
  });

  afterAll(async () => {
    await ctx?.close();
    await storage?.dispose();
  });

  it('reads an agent’s records back as they were recorded, newest first, page by page', async () => {
    const first = await records.list(orgA, agentId, 2);
    expect(first.hasMore).toBe(true);
    expect(first.data.map((r) => r.startedAt.toISOString())).toEqual(['2026-11-02T10:00:00.000Z', '2026-11-02T09:00:00.000Z']);
    expect(first.data[1]).toEqual({
      id: expect.stringMatching(/^rec_[0-9a-z]{26}$/),
      agentId,
      requestId: `req_${at('2026-11-02T09:00:00.000Z').getTime()}`,
      stream: true,
      outcome: 'completed',
      entryIndex: 1,
      api: 'anthropic',
      model: 'claude-haiku-4-5-20251001',
      attempts: [attempt(0, Status, 40), attempt(1, 'completed', 700)],
      ttftMs: 200,
      durationMs: 740,
      usage: usage(3, 4),
      startedAt: at('2026-11-02T09:00:00.000Z'),
    });
    const second = await records.list(orgA, agentId, 2, first.nextCursor!);
    const third = await records.list(orgA, agentId, 2, second.nextCursor!);
    expect([...second.data, ...third.data].map((r) => r.outcome)).toEqual(['upstream_status', 'completed', 'completed']);
    expect(third).toMatchObject({ hasMore: false, nextCursor: null });
    expect(second.data.find((r) => r.outcome === Status)).toMatchObject({ usage: null, ttftMs: null });
  });

  it('keeps listing the records of an agent deleted since, and answers 404 for an id with neither agent nor records', async () => {
    expect((await records.list(orgA, GONE, 10)).data.map((r) => r.outcome)).toEqual([
      'no_llm_configured',
      'completed',
      'upstream_timeout_first_token',
    ]);
    const none = (await records.list(orgA, GONE, 10)).data[0]!;
    expect(none).toMatchObject({ entryIndex: null, api: null, model: null, attempts: [], requestId: null });
    await expect(records.list(orgA, 'agt_neverexisted', 10)).rejects.toMatchObject({ code: CommonErrorCode.NotFound });
    // Another organization's agent is not this one's, records or not.
    expect((await records.list(orgB, agentId, 10)).data).toHaveLength(1);
    await expect(records.list(orgB, GONE, 10)).rejects.toMatchObject({ code: CommonErrorCode.NotFound });
  });

  it('adds usage up per agent: counts, errors by code, TTFT percentiles and tokens, and the window in all', async () => {
    const report = await records.usage(orgA, { from: at('2026-11-01T00:00:00Z'), to: at('2026-11-03T00:00:00Z'), groupBy: 'agent' });
    const byKey = Object.fromEntries(report.groups.map((g) => [g.key, g]));
    expect(Object.keys(byKey).sort()).toEqual([agentId, GONE].sort());
    expect(byKey[agentId]).toEqual({
      key: agentId,
      replies: 5,
      completed: 3,
      cancelled: 1,
      failed: 1,
      errors: { upstream_status: 1 },
      // 50, 100, 200, 300: interpolated like PostgreSQL's percentile_cont.
      ttftMs: { p50: 150, p95: 285 },
      tokens: { input: 25, output: 18, total: 43 },
    });
    expect(byKey[GONE]).toEqual({
      key: GONE,
      replies: 3,
      completed: 1,
      cancelled: 0,
      failed: 2,
      errors: { no_llm_configured: 1, upstream_timeout_first_token: 1 },
      ttftMs: { p50: 400, p95: 400 },
      tokens: { input: 1, output: 1, total: 2 },
    });
    expect(report.totals).toEqual({
      replies: 8,
      completed: 4,
      cancelled: 1,
      failed: 3,
      errors: { no_llm_configured: 1, upstream_status: 1, upstream_timeout_first_token: 1 },
      ttftMs: { p50: 200, p95: 380 },
      tokens: { input: 26, output: 19, total: 45 },
    });
  });

  it('adds usage up per UTC day, counting only replies that started inside the window', async () => {
    const report = await records.usage(orgA, { from: at('2026-11-01T11:00:00Z'), to: at('2026-11-02T12:00:00Z'), groupBy: 'day' });
    expect(report.groups.map((g) => [g.key, g.replies, g.completed, g.failed, g.tokens.total])).toEqual([
      ['2026-11-01', 2, 1, 1, 20],
      ['2026-11-02', 3, 1, 1, 7],
    ]);
    expect(report.totals).toMatchObject({ replies: 5, errors: { upstream_status: 1, upstream_timeout_first_token: 1 } });
  });

  it('shows an organization only its own usage, and an empty window as zeros', async () => {
    const window = { from: at('2026-11-01T00:00:00Z'), to: at('2026-11-03T00:00:00Z') };
    const b = await records.usage(orgB, { ...window, groupBy: 'agent' });
    expect(b.groups.map((g) => [g.key, g.replies, g.errors])).toEqual([[agentId, 1, { upstream_status: 1 }]]);
    expect(b.totals.replies).toBe(1);
    const empty = await records.usage(orgA, { from: at('2026-10-01T00:00:00Z'), to: at('2026-10-02T00:00:00Z'), groupBy: 'day' });
    expect(empty).toMatchObject({
      groups: [],
      totals: {
        replies: 0,
        completed: 0,
        cancelled: 0,
        failed: 0,
        errors: {},
        ttftMs: { p50: null, p95: null },
        tokens: { input: 0, output: 0, total: 0 },
      },
    });
  });

  it('prunes every organization’s records past the retention, in batches, and keeps the recent ones', async () => {
    const prisma = ctx.get(PrismaService);
    const old = at('2026-11-20T00:00:00.000Z');
    for (let n = 0; n < 2_100; n++) {
      recorder.record(reply(orgB, agentId, new Date(old.getTime() + n), [], { outcome: NoLlmConfigured }));
    }
    const recent = new Date(Date.now() - 60 * 60 * 1000);
    recorder.record(reply(orgA, agentId, recent, [], { outcome: NoLlmConfigured }));
    recorder.record(reply(orgB, agentId, recent, [], { outcome: NoLlmConfigured }));
    await recorder.flush();
    expect(await prisma.replyRecord.count()).toBe(9 + 2_100 + 2);
    // AGENTPLANE_RECORD_RETENTION_DAYS=1: everything but the two replies of the last hour.
    expect(await records.prune()).toBe(9 + 2_100);
    expect(
      (await prisma.replyRecord.findMany({ select: { orgId: true, startedAt: true } })).sort((x, y) => (x.orgId < y.orgId ? -1 : 1)),
    ).toEqual(
      [
        { orgId: orgA, startedAt: recent },
        { orgId: orgB, startedAt: recent },
      ].sort((x, y) => (x.orgId < y.orgId ? -1 : 1)),
    );
    expect(await records.prune()).toBe(0);
  });
});

describe('the recorder at shutdown, against a real database', () => {
  it('writes what is queued before the database closes', async () => {
    const storage = await createTestStorage();
    try {
      let ctx = await createServiceContext(storage, {}, [RecordsModule]);
      const orgId = (await ctx.get(ApiKeyService).issue('org-records-shutdown')).orgId;
      const recorder = ctx.get(ReplyRecorder);
      expect(recorder.record(reply(orgId, 'agt_1', new Date(), [], { outcome: NoLlmConfigured }))).toBe(true);
      // Closed before the recorder's timer could write it: only the shutdown does.
      await ctx.close();
      expect({ failed: recorder.failed, dropped: recorder.dropped, queued: recorder.queued }).toEqual({ failed: 0, dropped: 0, queued: 0 });
      ctx = await createServiceContext(storage, {}, [RecordsModule]);
      try {
        expect(await ctx.get(PrismaService).replyRecord.count({ where: { orgId } })).toBe(1);
      } finally {
        await ctx.close();
      }
    } finally {
      await storage.dispose();
    }
  });
});

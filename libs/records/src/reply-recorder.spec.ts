import { jest } from '@jest/globals';
import { asOrgId } from '#agentplane/auth';
import type { Logger } from '#agentplane/logging';
import type { ReplySummary } from '#agentplane/runtime';
import type { ReplyRecordRepository } from './reply-record.repository.js';
import { type RecorderOptions, ReplyRecorder } from './reply-recorder.js';

const summary = (n: number): ReplySummary => ({
  orgId: asOrgId('org_1'),
  agentId: 'agt_1',
  requestId: `req_${n}`,
  stream: true,
  outcome: 'completed',
  entryIndex: 0,
  api: 'chat_completions',
  model: 'm',
  attempts: [{ entryIndex: 0, api: 'chat_completions', model: 'm', outcome: 'completed', durationMs: 10 }],
  ttftMs: 5,
  durationMs: 10,
  usage: { input_tokens: 1, output_tokens: 2, total_tokens: 3 },
  startedAt: new Date('2026-12-04T00:00:00Z'),
});

/** A repository that keeps what it is given, answering each insert as `answer` says. */
function fakeRepository(answer: (batch: readonly ReplySummary[]) => Promise<void> = async () => undefined) {
  const batches: (readonly ReplySummary[])[] = [];
  const insert = jest.fn(async (batch: readonly ReplySummary[]) => {
    batches.push([...batch]);
    await answer(batch);
  });
  return { batches, insert, repository: { insert } as unknown as ReplyRecordRepository };
}

const never = () => new Promise<void>(() => undefined);
const nextTask = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('ReplyRecorder', () => {
  const logger = { warn: jest.fn(), info: jest.fn() };
  let recorder: ReplyRecorder | undefined;

  const start = (repository: ReplyRecordRepository, options: Partial<RecorderOptions>) =>
    (recorder = new ReplyRecorder(repository, logger as unknown as Logger, options));

  beforeEach(() => logger.warn.mockClear());
  afterEach(() => clearInterval((recorder as unknown as { timer?: NodeJS.Timeout })?.timer));

  it('writes what is queued in batches of at most batchSize, in order', async () => {
    const fake = fakeRepository();
    const rec = start(fake.repository, { batchSize: 4, flushEveryMs: 60_000 });
    for (let n = 0; n < 10; n++) expect(rec.record(summary(n))).toBe(true);
    await rec.flush();
    expect(fake.batches.map((b) => b.length)).toEqual([4, 4, 2]);
    expect(fake.batches.flat().map((s) => s.requestId)).toEqual(Array.from({ length: 10 }, (_, n) => `req_${n}`));
    expect(rec.queued).toBe(0);
  });

  it('writes a full batch in a task of its own as soon as it is queued, and a short one when the timer fires', async () => {
    const fake = fakeRepository();
    const rec = start(fake.repository, { batchSize: 3, flushEveryMs: 50 });
    rec.onApplicationBootstrap();
    rec.record(summary(1));
    rec.record(summary(2));
    rec.record(summary(3));
    // Not inside record(): the reply that ended does not build the INSERT.
    expect(fake.insert).not.toHaveBeenCalled();
    await nextTask();
    expect(fake.batches.map((b) => b.length)).toEqual([3]);
    rec.record(summary(4));
    await nextTask();
    expect(fake.batches).toHaveLength(1);
    for (let waited = 0; fake.batches.length < 2 && waited < 2_000; waited += 10) await new Promise((r) => setTimeout(r, 10));
    expect(fake.batches.map((b) => b.length)).toEqual([3, 1]);
  });

  it('drops and counts what comes while the queue is full, without waiting on the stuck write', async () => {
    const fake = fakeRepository(never);
    const rec = start(fake.repository, { capacity: 6, batchSize: 3, flushEveryMs: 60_000 });
    const accepted = Array.from({ length: 8 }, (_, n) => rec.record(summary(n)));
    expect(accepted).toEqual([true, true, true, true, true, true, false, false]);
    expect(rec.dropped).toBe(2);
    // One batch goes to the database and never comes back: three places free up, and no more.
    await nextTask();
    expect(fake.insert).toHaveBeenCalledTimes(1);
    expect(Array.from({ length: 5 }, (_, n) => rec.record(summary(10 + n)))).toEqual([true, true, true, false, false]);
    expect(rec.dropped).toBe(4);
    expect(rec.queued).toBe(6);
    // Flushing again waits on the same stuck write instead of starting a second one.
    void rec.flush();
    await nextTask();
    expect(fake.insert).toHaveBeenCalledTimes(1);
  });

  it('drops a batch whose write fails, counts it, logs no record, and goes on with the next', async () => {
    let calls = 0;
    const fake = fakeRepository(async () => {
      if (calls++ === 0) throw new Error('connection reset');
    });
    const rec = start(fake.repository, { batchSize: 2, flushEveryMs: 60_000 });
    for (let n = 0; n < 5; n++) rec.record(summary(n));
    await rec.flush();
    expect(rec.failed).toBe(2);
    expect(rec.dropped).toBe(0);
    expect(fake.batches.map((b) => b.length)).toEqual([2, 2, 1]);
    expect(logger.warn).toHaveBeenCalledTimes(1);
    const logged = JSON.stringify(logger.warn.mock.calls[0]);
    expect(logged).toContain('"records":2');
    expect(logged).not.toContain('req_');
    expect(logged).not.toContain('agt_1');
  });

  it('writes what is left when the module is destroyed, then refuses (and counts) what comes after', async () => {
    const fake = fakeRepository();
    const rec = start(fake.repository, { batchSize: 500, flushEveryMs: 60_000 });
    rec.onApplicationBootstrap();
    rec.record(summary(1));
    rec.record(summary(2));
    await rec.onModuleDestroy();
    expect(fake.batches.map((b) => b.length)).toEqual([2]);
    expect(rec.record(summary(3))).toBe(false);
    expect(rec.dropped).toBe(1);
  });

  it('does not hold shutdown open on a database that stopped answering', async () => {
    const fake = fakeRepository(never);
    const rec = start(fake.repository, { flushEveryMs: 60_000, shutdownWaitMs: 30 });
    rec.record(summary(1));
    const started = performance.now();
    await rec.onModuleDestroy();
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(logger.warn).toHaveBeenCalledWith({ records: 1 }, 'reply records still unwritten at shutdown');
  });
});

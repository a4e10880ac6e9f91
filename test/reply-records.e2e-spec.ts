import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { Client } from '../clients/typescript/client/index.js';
import {
  createAgent,
  getOrganization,
  getUsage,
  type LlmEntryRequestWritable,
  listReplyRecords,
  type ReplyRecord,
  type UsageFigures,
} from '../clients/typescript/index.js';
import { apiClient, expectClientInvalid, expectClientProblem, expectStatus, postReply, streamReply } from './support/api-client.js';
import { openTestDatabase } from './support/db-client.js';
import { ISO, sleep } from './support/http.js';
import { type RunningApi, startApi } from './support/processes.js';
import { startTestApi, type TestApi } from './support/test-api.js';
import { startTlsUpstream, type TlsUpstream, UPSTREAM_ENV } from './support/tls-upstream.js';

/**
 * Reply records and usage over HTTP: replies with known outcomes through fake upstreams, then
 * the records and the usage they add up to, read through the generated client. Records are
 * written off the request path, so each check waits (boundedly) for them to appear.
 */

const chunk = (delta: Record<string, unknown>, finish: string | null = null) =>
  `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', model: 'fake-model', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
const USAGE = `data: ${JSON.stringify({ id: 'c1', choices: [], usage: { prompt_tokens: 11, completion_tokens: 5, total_tokens: 16 } })}\n\n`;

const scenarios: Record<string, (res: ServerResponse) => void> = {
  chat(res) {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.end([chunk({ content: 'Hello' }), chunk({ content: '!' }), chunk({}, 'stop'), USAGE, 'data: [DONE]\n\n'].join(''));
  },
  unauthorized(res) {
    res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":{"message":"bad key"}}');
  },
};

/** Polls `read` until `done` holds for its answer, for at most 10 s: records are written within a second. */
async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await sleep(50);
  }
}

describe('reply records and usage', () => {
  let test: TestApi;
  let upstream: TlsUpstream;
  let a: Client;
  let b: Client;
  const agents = { ok: '', bad: '', fallback: '', none: '', other: '' };
  const requestIds: Record<string, string> = {};
  const key = `sk-${randomBytes(24).toString('base64url')}`;

  const entry = (name: string): LlmEntryRequestWritable => ({
    base_url: `https://127.0.0.1:${upstream.port}/${name}/v1`,
    model: 'fake-model',
    api_key: key,
  });
  const agentWith = async (client: Client, llm: LlmEntryRequestWritable[]) =>
    expectStatus(await createAgent({ client, body: { name: 'recorded', llm } }), 201).id;
  const recordsOf = async (client: Client, id: string, query: { limit?: number; after?: string } = {}) =>
    expectStatus(await listReplyRecords({ client, path: { id }, query }), 200);
  const waitForRecords = (client: Client, id: string, count: number) =>
    eventually(
      () => recordsOf(client, id),
      (page) => page.data.length >= count,
    );

  beforeAll(async () => {
    upstream = await startTlsUpstream((request, res) => scenarios[request.url.split('/')[1] ?? '']?.(res));
    test = await startTestApi(['records-a', 'records-b'], UPSTREAM_ENV);
    a = test.client('records-a');
    b = test.client('records-b');
    agents.ok = await agentWith(a, [entry('chat')]);
    agents.bad = await agentWith(a, [entry('unauthorized')]);
    agents.fallback = await agentWith(a, [entry('unauthorized'), entry('chat')]);
    agents.none = await agentWith(a, []);
    agents.other = await agentWith(b, [entry('chat')]);

    const HI = { messages: [{ role: 'user' as const, content: 'Hi' }] };
    const streamed = async (client: Client, id: string, name: string, last: string) => {
      const reply = await streamReply(client, id, HI);
      expect(reply.events.at(-1)?.event).toBe(last);
      requestIds[name] = reply.headers.get('x-request-id')!;
    };
    await streamed(a, agents.ok, 'ok streamed', 'reply.completed');
    const whole = await postReply(a, agents.ok, { ...HI, stream: false });
    expect(whole.data).toMatchObject({ text: 'Hello!', usage: { input_tokens: 11, output_tokens: 5, total_tokens: 16 } });
    requestIds['ok whole'] = whole.response!.headers.get('x-request-id')!;
    await streamed(a, agents.bad, 'bad streamed', 'error');
    expectClientProblem(await postReply(a, agents.bad, { ...HI, stream: false }), 502, 'upstream_status');
    await streamed(a, agents.fallback, 'fallback', 'reply.completed');
    expectClientProblem(await postReply(a, agents.none, { ...HI, stream: false }), 409, 'no_llm_configured');
    await streamed(b, agents.other, 'other', 'reply.completed');
  });

  afterAll(async () => {
    await test?.dispose();
    await upstream?.close();
  });

  it('records every reply, streamed or not, with its outcome, attempts, timings, usage and request id', async () => {
    const fallback = await waitForRecords(a, agents.fallback, 1);
    expect(fallback).toEqual({ data: [expect.any(Object)], has_more: false, next_cursor: null });
    const record = fallback.data[0]!;
    expect(record).toEqual({
      id: expect.stringMatching(/^rec_[0-9a-z]{26}$/),
      object: 'reply_record',
      agent_id: agents.fallback,
      request_id: requestIds.fallback,
      stream: true,
      outcome: 'completed',
      entry_index: 1,
      api: 'chat_completions',
      model: 'fake-model',
      attempts: [
        { entry_index: 0, api: 'chat_completions', model: 'fake-model', outcome: 'upstream_status', duration_ms: expect.any(Number) },
        { entry_index: 1, api: 'chat_completions', model: 'fake-model', outcome: 'completed', duration_ms: expect.any(Number) },
      ],
      ttft_ms: expect.any(Number),
      duration_ms: expect.any(Number),
      usage: { input_tokens: 11, output_tokens: 5, total_tokens: 16 },
      started_at: expect.stringMatching(ISO),
    });
    expect(record.ttft_ms!).toBeLessThanOrEqual(record.duration_ms);

    const bad = (await waitForRecords(a, agents.bad, 2)).data;
    expect(bad.map((r) => [r.stream, r.outcome, r.entry_index, r.ttft_ms, r.usage])).toEqual([
      [false, 'upstream_status', 0, null, null],
      [true, 'upstream_status', 0, null, null],
    ]);
    expect(bad[1]!.request_id).toBe(requestIds['bad streamed']);
    const none = (await waitForRecords(a, agents.none, 1)).data;
    expect(none).toEqual([
      expect.objectContaining({ stream: false, outcome: 'no_llm_configured', entry_index: null, api: null, model: null, attempts: [] }),
    ]);
  });

  it('pages through an agent’s records, newest first', async () => {
    await waitForRecords(a, agents.ok, 2);
    const first = await recordsOf(a, agents.ok, { limit: 1 });
    expect(first).toMatchObject({ has_more: true, next_cursor: expect.any(String) });
    expect(first.data.map((r) => [r.stream, r.request_id])).toEqual([[false, requestIds['ok whole']]]);
    const second = await recordsOf(a, agents.ok, { limit: 1, after: first.next_cursor! });
    expect(second).toMatchObject({ has_more: false, next_cursor: null });
    expect(second.data.map((r) => [r.stream, r.request_id])).toEqual([[true, requestIds['ok streamed']]]);
  });

  it('adds the replies up per agent and in all: counts, errors by code, tokens and TTFT percentiles', async () => {
    const expected: Record<string, Omit<UsageFigures, 'ttft_ms'>> = {
      [agents.ok]: { replies: 2, completed: 2, cancelled: 0, failed: 0, errors: {}, tokens: { input: 22, output: 10, total: 32 } },
      [agents.bad]: {
        replies: 2,
        completed: 0,
        cancelled: 0,
        failed: 2,
        errors: { upstream_status: 2 },
        tokens: { input: 0, output: 0, total: 0 },
      },
      [agents.fallback]: { replies: 1, completed: 1, cancelled: 0, failed: 0, errors: {}, tokens: { input: 11, output: 5, total: 16 } },
      [agents.none]: {
        replies: 1,
        completed: 0,
        cancelled: 0,
        failed: 1,
        errors: { no_llm_configured: 1 },
        tokens: { input: 0, output: 0, total: 0 },
      },
    };
    const report = await eventually(
      async () => expectStatus(await getUsage({ client: a, query: { group_by: 'agent' } }), 200),
      (r) => r.totals.replies >= 6,
    );
    expect(report).toMatchObject({ object: 'usage', group_by: 'agent', from: expect.stringMatching(ISO), to: expect.stringMatching(ISO) });
    expect(Date.parse(report.to) - Date.parse(report.from)).toBe(24 * 60 * 60 * 1000);
    expect(report.groups.map((g) => g.agent_id).sort()).toEqual(Object.keys(expected).sort());
    for (const group of report.groups) {
      const { agent_id, ttft_ms, ...figures } = group;
      expect({ agent_id, ...figures }).toEqual({ agent_id, ...expected[agent_id!] });
      // Only replies that relayed something have a TTFT.
      expect(ttft_ms.p50 === null).toBe(agent_id === agents.bad || agent_id === agents.none);
      if (ttft_ms.p50 !== null) expect(ttft_ms.p50).toBeLessThanOrEqual(ttft_ms.p95!);
    }
    const { ttft_ms, ...totals } = report.totals;
    expect(totals).toEqual({
      replies: 6,
      completed: 3,
      cancelled: 0,
      failed: 3,
      errors: { no_llm_configured: 1, upstream_status: 2 },
      tokens: { input: 33, output: 15, total: 48 },
    });
    expect(ttft_ms.p50).toBeGreaterThanOrEqual(0);
    expect(ttft_ms.p50!).toBeLessThanOrEqual(ttft_ms.p95!);

    // Per UTC day: the same totals (one day, or two when the run crosses midnight).
    const byDay = expectStatus(await getUsage({ client: a, query: { group_by: 'day', from: report.from, to: report.to } }), 200);
    expect(byDay.totals).toEqual(report.totals);
    expect(byDay.groups.map((g) => g.day)).toEqual(
      [...new Set([report.from, report.to, new Date().toISOString()].map((t) => t.slice(0, 10)))].filter((day) =>
        byDay.groups.some((g) => g.day === day),
      ),
    );
    expect(byDay.groups.reduce((sum, g) => sum + g.replies, 0)).toBe(6);
  });

  it('shows an organization none of another’s records or usage', async () => {
    await waitForRecords(b, agents.other, 1);
    for (const id of [agents.ok, agents.fallback]) {
      expectClientProblem(await listReplyRecords({ client: b, path: { id } }), 404, 'not_found');
    }
    expectClientProblem(await listReplyRecords({ client: a, path: { id: agents.other } }), 404, 'not_found');
    const usage = expectStatus(await getUsage({ client: b }), 200);
    expect(usage.groups.map((g) => [g.agent_id, g.replies])).toEqual([[agents.other, 1]]);
    expect(usage.totals).toMatchObject({ replies: 1, completed: 1, tokens: { total: 16 } });
    // No key at all: 401, as everywhere.
    expectClientProblem(await getUsage({ client: apiClient(test.api.url) }), 401, 'unauthenticated');
  });

  it('refuses a bad window, group or page, naming the field', async () => {
    const invalid = async (query: Record<string, string>) => expectClientInvalid(await getUsage({ client: a, query }));
    expect(await invalid({ from: 'yesterday' })).toEqual([
      { path: 'from', code: 'invalid_date_time', message: 'must be a date-time like 2026-12-01T00:00:00Z, or a date' },
    ]);
    expect(await invalid({ to: '2026-02-30T00:00:00Z' })).toEqual([expect.objectContaining({ path: 'to', code: 'invalid_date_time' })]);
    expect(await invalid({ from: '2026-12-02', to: '2026-12-01' })).toEqual([
      { path: 'from', code: 'invalid_window', message: 'must be before to' },
    ]);
    expect(await invalid({ from: '2026-01-01', to: '2026-12-01' })).toEqual([
      { path: 'from', code: 'invalid_window', message: 'must be at most 92 days before to' },
    ]);
    expect(await invalid({ group_by: 'week' })).toEqual([expect.objectContaining({ path: 'group_by', code: 'is_in' })]);
    expect(await invalid({ org_id: 'org_x' })).toEqual([expect.objectContaining({ path: 'org_id', code: 'unknown_property' })]);
    expectClientProblem(await listReplyRecords({ client: a, path: { id: agents.ok }, query: { after: 'garbage' } }), 400, 'invalid_cursor');
    expect(expectClientInvalid(await listReplyRecords({ client: a, path: { id: agents.ok }, query: { limit: 0 } }))).toEqual([
      expect.objectContaining({ path: 'limit', code: 'min' }),
    ]);
  });

  // Last: it restarts the API.
  it('writes what is queued when the API stops, and prunes records past AGENTPLANE_RECORD_RETENTION_DAYS', async () => {
    const orgId = expectStatus(await getOrganization({ client: a }), 200).id;
    const last = await streamReply(a, agents.ok, { messages: [{ role: 'user', content: 'Bye' }] });
    // Stopped at once: the record is written by the shutdown, if the timer has not written it yet.
    await test.api.stop();

    const db = await openTestDatabase(test.storage);
    try {
      const client = await db.client();
      // Two that started two days ago, one an hour ago (rows as the recorder writes them).
      for (const [id, age] of [
        ['rec_oldone', '2 days'],
        ['rec_oldtwo', '49 hours'],
        ['rec_recent', '1 hour'],
      ]) {
        await client.query(
          `INSERT INTO reply_records (id, org_id, agent_id, stream, outcome, attempts, duration_ms, started_at)
           VALUES ($1, $2, $3, true, 'completed', '[]', 10, now() - $4::interval)`,
          [id, orgId, agents.ok, age],
        );
      }
    } finally {
      await db.close();
    }

    let again: RunningApi | undefined;
    try {
      again = await startApi({ ...test.storage.env, ...UPSTREAM_ENV, AGENTPLANE_RECORD_RETENTION_DAYS: '1' });
      const client = apiClient(again.url, test.keys['records-a']);
      // Pruned as the API starts (and every 10 minutes after).
      const page = await eventually(
        () => recordsOf(client, agents.ok),
        (p) => !p.data.some((r) => r.id.startsWith('rec_old')),
      );
      const ids = (records: readonly ReplyRecord[]) => records.map((r) => r.request_id ?? r.id);
      expect(ids(page.data)).toEqual([last.headers.get('x-request-id'), requestIds['ok whole'], requestIds['ok streamed'], 'rec_recent']);
    } finally {
      await again?.stop();
    }
  });
});

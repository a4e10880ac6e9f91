import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import type { Client } from '../clients/typescript/client/index.js';
import { createAgent, getAgent, type LlmEntryRequest } from '../clients/typescript/index.js';
import { expectClientInvalid, expectClientProblem, expectStatus, postReply, streamReply } from './support/api-client.js';
import { PROBLEM_TYPE, sleep } from './support/http.js';
import { parsePrometheusText, type Scrape } from './support/prometheus-text.js';
import { startApi } from './support/processes.js';
import { createTestStorage, usingPostgres } from './support/storage.js';
import { startTestApi, type TestApi } from './support/test-api.js';
import { closedPort, startTlsUpstream, type TlsUpstream, UPSTREAM_ENV } from './support/tls-upstream.js';

/**
 * Prometheus metrics on their own listener (AGENTPLANE_METRICS_PORT), scraped and parsed as a
 * scraper would, after requests of every kind; and never on the API's port.
 */

const TOKEN = 'scrape-token-0123456789abcdef';
const HTTP = 'agentplane_http_request_duration_seconds';
const HI = { messages: [{ role: 'user' as const, content: 'Hi' }] };

const chunk = (delta: Record<string, unknown>, finish: string | null = null) =>
  `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', model: 'fake-model', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;

const scenarios: Record<string, (res: ServerResponse) => void> = {
  chat(res) {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.end(chunk({ content: 'Hello' }) + chunk({}, 'stop') + 'data: [DONE]\n\n');
  },
  status500(res) {
    res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":{"message":"boom"}}');
  },
};

/** TCP ports the process listens on (Linux: its socket inodes, found in /proc/net/tcp and tcp6). */
function listeningPorts(pid: number): number[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const socket = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (socket) inodes.add(socket[1]!);
    } catch {
      // Closed while we looked.
    }
  }
  const ports: number[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      // local address, state (0A: LISTEN), inode
      if (fields[3] === '0A' && inodes.has(fields[9]!)) ports.push(parseInt(fields[1]!.split(':')[1]!, 16));
    }
  }
  return ports.sort((a, b) => a - b);
}

/** The scrape URL the API logged at start-up. */
function metricsUrlOf(output: string): string | undefined {
  return /"url":"(http:\/\/[^"]+\/metrics)"[^\n]*"msg":"metrics listening"/.exec(output)?.[1];
}

describe('metrics on their own listener', () => {
  let test: TestApi;
  let upstream: TlsUpstream;
  let client: Client;
  let metricsUrl: string;

  beforeAll(async () => {
    upstream = await startTlsUpstream((request, res) => scenarios[request.url.split('/')[1] ?? '']?.(res));
    test = await startTestApi(['metrics'], { ...UPSTREAM_ENV, AGENTPLANE_METRICS_PORT: '0', AGENTPLANE_METRICS_TOKEN: TOKEN });
    client = test.client('metrics');
    metricsUrl = metricsUrlOf(test.api.output())!;
  });

  afterAll(async () => {
    await test?.dispose();
    await upstream?.close();
  });

  const scrape = async (): Promise<Scrape> => {
    const res = await fetch(metricsUrl, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    return parsePrometheusText(await res.text());
  };

  const agentWith = async (llm: Omit<LlmEntryRequest, 'model' | 'api_key'>[]): Promise<string> =>
    expectStatus(
      await createAgent({
        client,
        body: { name: 'metered', llm: llm.map((e) => ({ model: 'fake-model', api_key: 'sk-metrics-0123456789abcdef', ...e })) },
      }),
      201,
    ).id;

  it('listens on loopback, on a port of its own, and logs where (never the token)', () => {
    expect(metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const apiPort = Number(new URL(test.api.url).port);
    const metricsPort = Number(new URL(metricsUrl).port);
    expect(metricsPort).not.toBe(apiPort);
    expect(listeningPorts(test.api.process.pid!)).toEqual([apiPort, metricsPort].sort((a, b) => a - b));
    expect(test.api.output()).toContain('"token_required":true');
    expect(test.api.output()).not.toContain(TOKEN);
  });

  it('counts requests by route template and status, replies by api and outcome, attempts by code', async () => {
    const chat = await agentWith([{ base_url: `https://127.0.0.1:${upstream.port}/chat/v1` }]);
    const failing = await agentWith([
      { base_url: `https://127.0.0.1:${await closedPort()}/v1` },
      { base_url: `https://127.0.0.1:${upstream.port}/status500/v1` },
    ]);
    expectStatus(await getAgent({ client, path: { id: chat } }), 200);
    expectClientProblem(await getAgent({ client, path: { id: 'agt_00000000000000000000000000' } }), 404, 'not_found');
    expect((await fetch(`${test.api.url}/v1/no-such-route/${chat}`)).status).toBe(404);
    expectClientInvalid(await createAgent({ client, body: { name: '' } }));

    const streamed = await streamReply(client, chat, HI);
    expect(streamed.events.at(-1)?.event).toBe('reply.completed');
    const failed = await streamReply(client, failing, HI);
    expect(failed.events.at(-1)).toMatchObject({ event: 'error', data: { code: 'upstream_status' } });
    expectClientProblem(await postReply(client, failing, { ...HI, stream: false }), 502, 'upstream_status');

    // A request is counted when its response closes, just after the client has read it.
    let s = await scrape();
    for (let i = 0; i < 100 && s.sum(`${HTTP}_count`, { route: '/v1/agents/:id/replies' }) < 3; i++) {
      await sleep(20);
      s = await scrape();
    }

    const requests = (route: string, method: string, status: number) => s.sum(`${HTTP}_count`, { route, method, status: String(status) });
    expect(requests('/v1/agents', 'POST', 201)).toBe(2);
    expect(requests('/v1/agents', 'POST', 422)).toBe(1);
    expect(requests('/v1/agents/:id', 'GET', 200)).toBe(1);
    expect(requests('/v1/agents/:id', 'GET', 404)).toBe(1);
    expect(requests('unmatched', 'GET', 404)).toBe(1);
    // Each streamed reply once, with the time it streamed; the failed whole reply as the problem it answered.
    expect(requests('/v1/agents/:id/replies', 'POST', 200)).toBe(2);
    expect(requests('/v1/agents/:id/replies', 'POST', 502)).toBe(1);
    expect(s.sum(`${HTTP}_sum`, { route: '/v1/agents/:id/replies', status: '200' })).toBeGreaterThan(0);
    // Labels are templates and codes: no id or raw path ever becomes a series.
    for (const sample of s.find(`${HTTP}_count`)) expect(JSON.stringify(sample.labels)).not.toMatch(/agt_|no-such-route/);

    expect(s.sum('agentplane_reply_duration_seconds_count', { api: 'chat_completions', outcome: 'completed' })).toBe(1);
    expect(s.sum('agentplane_reply_ttft_seconds_count', { api: 'chat_completions', outcome: 'completed' })).toBe(1);
    expect(s.sum('agentplane_reply_duration_seconds_count', { api: 'chat_completions', outcome: 'upstream_status' })).toBe(2);
    // Nothing was relayed by the failing replies: no time to first token.
    expect(s.sum('agentplane_reply_ttft_seconds_count')).toBe(1);
    expect(s.sum('agentplane_upstream_attempts_total', { api: 'chat_completions', outcome: 'completed' })).toBe(1);
    expect(s.sum('agentplane_upstream_attempts_total', { api: 'chat_completions', outcome: 'upstream_connection_refused' })).toBe(2);
    expect(s.sum('agentplane_upstream_attempts_total', { api: 'chat_completions', outcome: 'upstream_status' })).toBe(2);
    expect(s.find('agentplane_replies_open')).toEqual([{ name: 'agentplane_replies_open', labels: {}, value: 0 }]);
    expect(s.find('agentplane_reply_records_dropped_total')).toEqual([
      { name: 'agentplane_reply_records_dropped_total', labels: {}, value: 0 },
    ]);

    // The pool the API queries through: 10 connections on PostgreSQL, the one of embedded storage.
    expect(s.sum('agentplane_db_pool_max_connections')).toBe(usingPostgres ? 10 : 1);
    expect(s.find('agentplane_db_pool_connections').map((x) => x.labels.state)).toEqual(['idle', 'in_use']);
    expect(s.sum('agentplane_db_pool_connections')).toBeGreaterThanOrEqual(1);
    expect(s.find('agentplane_db_pool_waiting')).toHaveLength(1);
    expect(s.types.get('nodejs_eventloop_lag_seconds')).toBe('gauge');
    expect(s.find('nodejs_eventloop_lag_p99_seconds')[0]!.value).toBeGreaterThan(0);
    expect(s.find('process_resident_memory_bytes')[0]!.value).toBeGreaterThan(0);
  });

  it('asks for the token, and serves nothing but /metrics', async () => {
    expect((await fetch(metricsUrl)).status).toBe(401);
    expect((await fetch(metricsUrl, { headers: { authorization: `Bearer ${TOKEN}-wrong` } })).status).toBe(401);
    expect((await fetch(metricsUrl, { headers: { authorization: `Bearer ${test.keys.metrics}` } })).status).toBe(401);
    const elsewhere = new URL('/healthz', metricsUrl);
    expect((await fetch(elsewhere, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(404);
  });

  it('is not on the API port, with or without a key or the metrics token', async () => {
    for (const authorization of [undefined, `Bearer ${test.keys.metrics}`, `Bearer ${TOKEN}`]) {
      const res = await fetch(`${test.api.url}/metrics`, authorization === undefined ? {} : { headers: { authorization } });
      expect([authorization, res.status, res.headers.get('content-type')]).toEqual([authorization, 404, PROBLEM_TYPE]);
      expect(await res.json()).toMatchObject({ status: 404, code: 'not_found' });
    }
  });

  it('stops with the API, though a scraper keeps its connection open', async () => {
    await scrape();
    expect(await test.api.stop()).toEqual({ code: null, signal: 'SIGTERM' });
  });
});

describe('without AGENTPLANE_METRICS_PORT', () => {
  it('has no metrics endpoint at all', async () => {
    const storage = await createTestStorage();
    const api = await startApi(storage.env);
    try {
      expect(metricsUrlOf(api.output())).toBeUndefined();
      expect(api.output()).not.toMatch(/metrics listening|Prometheus metrics/);
      expect(listeningPorts(api.process.pid!)).toEqual([Number(new URL(api.url).port)]);
      expect((await fetch(`${api.url}/metrics`)).status).toBe(404);
    } finally {
      await api.stop();
      await storage.dispose();
    }
  });
});

import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import { createServer as createTcpServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { canaryLeaks } from './support/canary.js';
import { expectProblem, send } from './support/http.js';
import { createApiKey, ROOT, startApi, type RunningApi } from './support/processes.js';
import { createTestStorage, type TestStorage } from './support/storage.js';

/**
 * Replies relayed from fake OpenAI-compatible upstreams: real TLS servers on 127.0.0.1 signed by
 * the test CA (trusted by the API process through NODE_EXTRA_CA_CERTS), reached because the
 * API's egress allowlist names 127.0.0.1. Each scenario is a path prefix of one server.
 */

const TLS_DIR = join(ROOT, 'test', 'fixtures', 'tls');
const MULTIBYTE = 'Grüße, 世界! 👋🏽 — done.';

interface Seen {
  readonly path: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

type Scenario = (req: IncomingMessage, res: ServerResponse, body: string) => void | Promise<void>;

const chunk = (delta: Record<string, unknown>, finish: string | null = null) =>
  `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', model: 'fake-model', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
const usage = `data: ${JSON.stringify({ id: 'c1', choices: [], usage: { prompt_tokens: 11, completion_tokens: 5, total_tokens: 16 } })}\n\n`;

function sse(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream' });
}

/** Writes `text` in pieces of `size` bytes, each its own TCP write, so characters split across them. */
async function writeInPieces(res: ServerResponse, text: string, size: number): Promise<void> {
  const bytes = Buffer.from(text, 'utf8');
  for (let at = 0; at < bytes.length; at += size) {
    res.write(bytes.subarray(at, at + size));
    await sleep(1);
  }
}

const scenarios: Record<string, Scenario> = {
  async chat(_req, res) {
    sse(res);
    const wire = [chunk({ role: 'assistant', content: '' }), ...[...MULTIBYTE].map((c) => chunk({ content: c })), chunk({}, 'stop'), usage, 'data: [DONE]\n\n'].join('');
    await writeInPieces(res, wire, 7);
    res.end();
  },
  async tools(_req, res) {
    sse(res);
    const args = JSON.stringify({ reason: 'caller said goodbye' });
    res.write(chunk({ tool_calls: [{ index: 0, id: 'call_end', type: 'function', function: { name: 'end_call', arguments: '' } }] }));
    for (const piece of args.match(/.{1,5}/g)!) res.write(chunk({ tool_calls: [{ index: 0, function: { arguments: piece } }] }));
    res.end(chunk({}, 'tool_calls') + 'data: [DONE]\n\n');
  },
  async responses(_req, res) {
    sse(res);
    const ev = (type: string, payload: Record<string, unknown>) => `event: ${type}\ndata: ${JSON.stringify({ type, ...payload })}\n\n`;
    await writeInPieces(
      res,
      [
        ev('response.created', { response: { id: 'r1' } }),
        ...[...MULTIBYTE].map((c) => ev('response.output_text.delta', { delta: c })),
        ev('response.completed', { response: { model: 'fake-responses', usage: { input_tokens: 3, output_tokens: 4, total_tokens: 7 } } }),
      ].join(''),
      11,
    );
    res.end();
  },
  status500(_req, res) {
    res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":{"message":"boom"}}');
  },
  redirect(_req, res) {
    res.writeHead(302, { location: '/chat/v1/chat/completions' }).end();
  },
  stall() {
    // Never answers.
  },
  garbage(_req, res) {
    sse(res);
    res.end('data: this is not JSON\n\n');
  },
  hugeLine(_req, res) {
    sse(res);
    // One line over the 1 MB line limit.
    res.end(`data: {"choices":[{"delta":{"content":"${'x'.repeat(1_100_000)}"}}]}\n\n`);
  },
  async hugeReply(_req, res) {
    sse(res);
    // Many small, valid chunks: 17 MB in all, over the 16 MB reply limit.
    const piece = chunk({ content: 'y'.repeat(64 * 1024) });
    for (let sent = 0; sent < 17 * 1024 * 1024 && !res.destroyed; sent += piece.length) {
      if (!res.write(piece)) await once(res, 'drain');
    }
    res.end();
  },
  echo401(req, res) {
    // A hostile upstream that repeats the caller's key in its error body.
    res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: `Invalid key: ${req.headers.authorization}` } }));
  },
  async breaksAfterFirstToken(req, res) {
    sse(res);
    res.write(chunk({ content: 'Hel' }));
    await sleep(50);
    req.socket.destroy();
  },
  async idleAfterFirstToken(_req, res) {
    sse(res);
    res.write(chunk({ content: 'Hel' }));
    // …then silence.
  },
  async slow(_req, res) {
    sse(res);
    for (const word of ['one ', 'two ', 'three']) {
      await sleep(100);
      res.write(chunk({ content: word }));
    }
    res.end(chunk({}, 'stop') + 'data: [DONE]\n\n');
  },
  async endless(_req, res) {
    sse(res);
    for (let i = 0; i < 600 && !res.destroyed; i++) {
      res.write(chunk({ content: `${i} ` }));
      await sleep(20);
    }
    res.end();
  },
};

interface Upstream {
  readonly port: number;
  readonly seen: Seen[];
  /** TCP connections accepted so far. */
  connections(): number;
  /** Resolves when a request for `scenario` sees its connection close. */
  closed(scenario: string): Promise<number>;
  close(): Promise<void>;
}

async function startUpstream(): Promise<Upstream> {
  const seen: Seen[] = [];
  const closedAt = new Map<string, (at: number) => void>();
  const server: Server = createServer({ key: readFileSync(join(TLS_DIR, 'server.key')), cert: readFileSync(join(TLS_DIR, 'server.crt')) }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const scenario = (req.url ?? '').split('/')[1] ?? '';
      seen.push({ path: req.url ?? '', headers: req.headers, body });
      res.on('close', () => closedAt.get(scenario)?.(Date.now()));
      void scenarios[scenario]?.(req, res, body);
    });
  });
  let connections = 0;
  server.on('connection', () => connections++);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as { port: number }).port,
    seen,
    connections: () => connections,
    closed: (scenario) => new Promise((resolve) => closedAt.set(scenario, resolve)),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A port nothing listens on (connection refused). */
async function closedPort(): Promise<number> {
  const server = createTcpServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function parseEvents(text: string): EventSourceMessage[] {
  const events: EventSourceMessage[] = [];
  const parser = createParser({ onEvent: (e) => events.push(e) });
  parser.feed(text);
  return events;
}

describe('replies through the configured LLM', () => {
  let storage: TestStorage;
  let api: RunningApi;
  let upstream: Upstream;
  let key: string;
  let refusedPort: number;
  const upstreamKey = `sk-${randomBytes(30).toString('base64url')}`;

  beforeAll(async () => {
    upstream = await startUpstream();
    refusedPort = await closedPort();
    storage = await createTestStorage();
    api = await startApi({ ...storage.env, AGENTPLANE_EGRESS_ALLOWLIST: '127.0.0.1', NODE_EXTRA_CA_CERTS: join(TLS_DIR, 'ca.crt') });
    key = (await createApiKey('replies', storage.env)).api_key;
  });

  afterAll(async () => {
    await api?.stop();
    await upstream?.close();
    await storage?.dispose();
  });

  const base = (scenario: string, port = upstream.port) => `https://127.0.0.1:${port}/${scenario}/v1`;

  async function agentWith(llm: Record<string, unknown>[], extra: Record<string, unknown> = {}): Promise<string> {
    const res = await send(api.url, 'POST', '/v1/agents', key, {
      name: 'relay',
      instructions: 'Be brief.',
      llm: llm.map((e) => ({ model: 'fake-model', api_key: upstreamKey, ...e })),
      ...extra,
    });
    expect({ status: res.status, body: res.status === 201 ? '' : await res.text() }).toEqual({ status: 201, body: '' });
    return ((await res.json()) as { id: string }).id;
  }

  const ask = (agentId: string, body: Record<string, unknown> = {}, signal?: AbortSignal) =>
    fetch(`${api.url}/v1/agents/${agentId}/replies`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ messages: [{ role: 'user', content: 'Hi' }], ...body }),
      ...(signal === undefined ? {} : { signal }),
    });

  async function events(agentId: string, body: Record<string, unknown> = {}): Promise<EventSourceMessage[]> {
    const res = await ask(agentId, body);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    return parseEvents(await res.text());
  }

  const deltas = (evs: EventSourceMessage[]) =>
    evs
      .filter((e) => e.event === 'reply.delta')
      .map((e) => (JSON.parse(e.data) as { text: string }).text)
      .join('');
  const last = (evs: EventSourceMessage[]) => ({ event: evs.at(-1)!.event, data: JSON.parse(evs.at(-1)!.data) as Record<string, unknown> });

  it('relays a chat-completions stream in order, byte-exact across split multi-byte characters, and sends exactly the expected request', async () => {
    const agentId = await agentWith([{ base_url: base('chat') }], { temperature: 0.2, max_tokens: 64 });
    const before = upstream.seen.length;
    const evs = await events(agentId, { messages: [{ role: 'user', content: 'Hi' }] });
    expect(deltas(evs)).toBe(MULTIBYTE);
    expect(evs.slice(0, -1).every((e) => e.event === 'reply.delta')).toBe(true);
    expect(last(evs)).toEqual({
      event: 'reply.completed',
      data: {
        finish_reason: 'stop',
        entry_index: 0,
        model: 'fake-model',
        ttft_ms: expect.any(Number),
        duration_ms: expect.any(Number),
        usage: { input_tokens: 11, output_tokens: 5, total_tokens: 16 },
      },
    });
    const [request] = upstream.seen.slice(before);
    expect(request!.path).toBe('/chat/v1/chat/completions');
    expect(request!.headers.authorization).toBe(`Bearer ${upstreamKey}`);
    expect(request!.headers['content-type']).toBe('application/json');
    // Nothing else that could carry a secret.
    expect(Object.keys(request!.headers).filter((h) => /key|token|cookie|secret|proxy/i.test(h))).toEqual([]);
    expect(JSON.parse(request!.body)).toEqual({
      model: 'fake-model',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Hi' },
      ],
      stream: true,
      stream_options: { include_usage: true },
      temperature: 0.2,
      max_tokens: 64,
    });
  });

  it('reuses the upstream connection for the next reply once one has completed', async () => {
    const agentId = await agentWith([{ base_url: base('chat') }]);
    await events(agentId);
    const before = upstream.connections();
    for (let i = 0; i < 3; i++) expect(last(await events(agentId)).event).toBe('reply.completed');
    expect(upstream.connections()).toBe(before);
  });

  it('relays a Responses API stream', async () => {
    const agentId = await agentWith([{ base_url: base('responses'), api: 'responses' }]);
    const before = upstream.seen.length;
    const evs = await events(agentId);
    expect(deltas(evs)).toBe(MULTIBYTE);
    expect(last(evs).data).toMatchObject({ finish_reason: 'stop', model: 'fake-responses', usage: { input_tokens: 3, output_tokens: 4, total_tokens: 7 } });
    const [request] = upstream.seen.slice(before);
    expect(request!.path).toBe('/responses/v1/responses');
    expect(JSON.parse(request!.body)).toEqual({ model: 'fake-model', instructions: 'Be brief.', input: [{ role: 'user', content: 'Hi' }], stream: true });
  });

  it('emits a streamed tool call once, complete (an end_call with JSON arguments)', async () => {
    const agentId = await agentWith([{ base_url: base('tools') }]);
    const evs = await events(agentId);
    const calls = evs.filter((e) => e.event === 'reply.tool_call').map((e) => JSON.parse(e.data) as Record<string, string>);
    expect(calls).toEqual([{ id: 'call_end', name: 'end_call', arguments: '{"reason":"caller said goodbye"}' }]);
    expect(last(evs).data).toMatchObject({ finish_reason: 'tool_calls' });
  });

  it.each([
    ['refuses the connection', () => base('chat', refusedPort), {}],
    ['answers 500', () => base('status500'), {}],
    ['stalls past the first-token timeout', () => base('stall'), { timeouts: { first_token_ms: 300 } }],
    ['answers a 302', () => base('redirect'), {}],
    ['sends a malformed stream', () => base('garbage'), {}],
  ])('falls back when entry 0 %s: entry 1 answers with entry_index 1', async (_label, url, extra) => {
    const agentId = await agentWith([{ base_url: url(), ...extra }, { base_url: base('chat') }]);
    const evs = await events(agentId);
    expect(deltas(evs)).toBe(MULTIBYTE);
    expect(last(evs).data).toMatchObject({ entry_index: 1 });
  });

  it('does not fall back after the first token: the stream ends with error', async () => {
    const agentId = await agentWith([{ base_url: base('breaksAfterFirstToken') }, { base_url: base('chat') }]);
    const before = upstream.seen.filter((s) => s.path.startsWith('/chat/')).length;
    const evs = await events(agentId);
    expect(evs.map((e) => e.event)).toEqual(['reply.delta', 'error']);
    expect(last(evs).data).toEqual({ code: 'upstream_connect_failed', message: expect.any(String) });
    expect(upstream.seen.filter((s) => s.path.startsWith('/chat/')).length).toBe(before);
  });

  it.each([
    ['upstream_timeout_first_token', 'stall', { first_token_ms: 300 }],
    ['upstream_idle_timeout', 'idleAfterFirstToken', { idle_ms: 300 }],
    ['upstream_timeout_total', 'slow', { total_ms: 150 }],
    ['upstream_status_500', 'status500', {}],
    ['egress_refused', 'redirect', {}],
    ['upstream_malformed', 'garbage', {}],
    ['upstream_too_large', 'hugeLine', {}],
  ])('ends with %s when the only entry fails that way', async (code, scenario, timeouts) => {
    const agentId = await agentWith([{ base_url: base(scenario), timeouts }]);
    const evs = await events(agentId);
    expect(last(evs)).toEqual({ event: 'error', data: { code, message: expect.any(String) } });
  });

  it('ends with upstream_too_large once a reply passes 16 MB, after relaying what came before', async () => {
    const agentId = await agentWith([{ base_url: base('hugeReply') }]);
    const evs = await events(agentId);
    expect(evs.length).toBeGreaterThan(100);
    expect(last(evs)).toEqual({ event: 'error', data: { code: 'upstream_too_large', message: expect.any(String) } });
  });

  it('answers stream: false with one JSON object, and 502 upstream_failed when every entry fails', async () => {
    const ok = await ask(await agentWith([{ base_url: base('tools') }]), { stream: false });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({
      text: '',
      tool_calls: [{ id: 'call_end', name: 'end_call', arguments: '{"reason":"caller said goodbye"}' }],
      finish_reason: 'tool_calls',
      entry_index: 0,
      model: 'fake-model',
      ttft_ms: expect.any(Number),
      duration_ms: expect.any(Number),
    });
    const failed = await ask(await agentWith([{ base_url: base('status500') }]), { stream: false });
    const problem = await expectProblem(failed, 502, 'upstream_failed');
    expect(problem.detail).toContain('upstream_status_500');
  });

  it('aborts the upstream request at once when the caller disconnects', async () => {
    const agentId = await agentWith([{ base_url: base('endless') }]);
    const closed = upstream.closed('endless');
    const controller = new AbortController();
    const res = await ask(agentId, {}, controller.signal);
    const reader = res.body!.getReader();
    await reader.read(); // the stream is flowing
    const abortedAt = Date.now();
    controller.abort();
    const closedAt = await closed;
    expect(closedAt - abortedAt).toBeLessThan(1000);
  });

  it('never relays or logs an upstream error body that echoes the key', async () => {
    const agentId = await agentWith([{ base_url: base('echo401') }]);
    const evs = await events(agentId);
    expect(last(evs).data).toEqual({ code: 'upstream_status_401', message: expect.any(String) });
    const failed = await ask(agentId, { stream: false });
    const text = await failed.text();
    await sleep(100); // let the log lines land
    expect([...canaryLeaks(JSON.stringify(evs) + text, upstreamKey, 'responses'), ...canaryLeaks(api.output(), upstreamKey, 'API log')]).toEqual([]);
  });

  it('answers 404 for another organization’s agent, and 422 for bad messages', async () => {
    const agentId = await agentWith([{ base_url: base('chat') }]);
    const otherKey = (await createApiKey('replies-other', storage.env)).api_key;
    await expectProblem(await send(api.url, 'POST', `/v1/agents/${agentId}/replies`, otherKey, { messages: [{ role: 'user', content: 'x' }] }), 404, 'not_found');
    for (const body of [{ messages: [] }, { messages: [{ role: 'robot', content: 'x' }] }, { messages: [{ role: 'tool', content: 'x' }] }, { messages: Array(501).fill({ role: 'user', content: 'x' }) }]) {
      await expectProblem(await send(api.url, 'POST', `/v1/agents/${agentId}/replies`, key, body), 422, 'validation_failed');
    }
  });

  it('relays 200 concurrent streams against a slow upstream, each complete and in order', async () => {
    const agentId = await agentWith([{ base_url: base('slow') }]);
    const results = await Promise.all(Array.from({ length: 200 }, () => events(agentId)));
    for (const evs of results) {
      expect(deltas(evs)).toBe('one two three');
      expect(last(evs).event).toBe('reply.completed');
    }
  });
});

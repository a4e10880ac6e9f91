import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { connect, createServer as createTcpServer, type Server as NetServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import type { Client } from '../clients/typescript/client/index.js';
import {
  createAgent,
  createCredential,
  createReply,
  deleteCredential,
  type LlmEntryRequest,
  replaceCredential,
  type ReplyRequest,
} from '../clients/typescript/index.js';
import {
  apiClient,
  expectClientProblem,
  expectStatus,
  postReply,
  type ReplyStreamEvent,
  streamReply,
  untyped,
} from './support/api-client.js';
import { canaryLeaks } from './support/canary.js';
import { openTestDatabase } from './support/db-client.js';
import { startTestApi, type TestApi } from './support/test-api.js';
import { closedPort, type SeenRequest, startTlsUpstream, type TlsUpstream, UPSTREAM_ENV } from './support/tls-upstream.js';

/**
 * Replies relayed from fake OpenAI-compatible upstreams (test/support/tls-upstream), asked for
 * and read through the generated client. Each scenario is a path prefix of one server.
 */

const UPSTREAM_HEADERS = ['accept', 'authorization', 'connection', 'content-length', 'content-type', 'host'];
const MULTIBYTE = 'Grüße, 世界! 👋🏽 — done.';

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

/** Holds each request of `name` until `count` of them have arrived (or `timeoutMs` passed). */
const arrived = new Map<string, { count: number; waiters: (() => void)[] }>();
async function allArrived(name: string, count: number, timeoutMs: number): Promise<void> {
  const state = arrived.get(name) ?? { count: 0, waiters: [] };
  arrived.set(name, state);
  state.count++;
  if (state.count >= count) {
    for (const release of state.waiters.splice(0)) release();
    return;
  }
  await Promise.race([new Promise<void>((resolve) => state.waiters.push(resolve)), sleep(timeoutMs)]);
}

/** A gate a scenario waits at until the test opens it; `reached` resolves when a request waits there. */
function gate() {
  let reach!: () => void;
  let open!: () => void;
  const reached = new Promise<void>((resolve) => (reach = resolve));
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { reached, opened, reach, open };
}
let heldGate = gate();

const scenarios: Record<string, Scenario> = {
  async chat(_req, res) {
    sse(res);
    const wire = [
      chunk({ role: 'assistant', content: '' }),
      ...[...MULTIBYTE].map((c) => chunk({ content: c })),
      chunk({}, 'stop'),
      usage,
      'data: [DONE]\n\n',
    ].join('');
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
  chatWhole(_req, res) {
    // The same reply, with the end of the body in the same write as [DONE].
    sse(res);
    res.end([chunk({ content: 'whole' }), chunk({}, 'stop'), 'data: [DONE]\n\n'].join(''));
  },
  twoTools(_req, res) {
    // Two calls interleaved by index, ids and names only on their first chunks.
    sse(res);
    const call = (index: number, fields: Record<string, unknown>) => chunk({ tool_calls: [{ index, ...fields }] });
    res.end(
      [
        call(0, { id: 'call_a', type: 'function', function: { name: 'lookup', arguments: '{"q":' } }),
        call(1, { id: 'call_b', type: 'function', function: { name: 'end_call', arguments: '{"reason"' } }),
        call(0, { function: { arguments: '"zürich"}' } }),
        call(1, { function: { arguments: ':"bye"}' } }),
        chunk({}, 'tool_calls'),
        'data: [DONE]\n\n',
      ].join(''),
    );
  },
  async responsesTool(_req, res) {
    sse(res);
    const ev = (type: string, payload: Record<string, unknown>) => `event: ${type}\ndata: ${JSON.stringify({ type, ...payload })}\n\n`;
    await writeInPieces(
      res,
      [
        ev('response.output_item.added', {
          item: { type: 'function_call', id: 'fc_1', call_id: 'call_r', name: 'end_call', arguments: '' },
        }),
        ev('response.function_call_arguments.delta', { item_id: 'fc_1', delta: '{"reason":' }),
        ev('response.function_call_arguments.delta', { item_id: 'fc_1', delta: '"done"}' }),
        ev('response.function_call_arguments.done', { item_id: 'fc_1', arguments: '{"reason":"done"}' }),
        ev('response.completed', { response: { model: 'fake-responses' } }),
      ].join(''),
      13,
    );
    res.end();
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
  async held(_req, res) {
    // Answers 503 once the test opens the gate: the fallback starts when the test says.
    heldGate.reach();
    await heldGate.opened;
    res.writeHead(503).end();
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
    res
      .writeHead(401, { 'content-type': 'application/json' })
      .end(JSON.stringify({ error: { message: `Invalid key: ${req.headers.authorization}` } }));
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
  async slowToolCall(_req, res) {
    // An end_call whose arguments take longer to stream than the first-token timeout.
    sse(res);
    res.write(chunk({ tool_calls: [{ index: 0, id: 'call_slow', type: 'function', function: { name: 'end_call', arguments: '' } }] }));
    for (const piece of JSON.stringify({ reason: 'done talking', summary: 'x'.repeat(40) }).match(/.{1,9}/g)!) {
      await sleep(150);
      res.write(chunk({ tool_calls: [{ index: 0, function: { arguments: piece } }] }));
    }
    res.end(chunk({}, 'tool_calls') + 'data: [DONE]\n\n');
  },
  streamErrorEcho(req, res) {
    // A hostile upstream that answers 200, then an in-stream error carrying the caller's key.
    sse(res);
    const key = (req.headers.authorization ?? '').replace(/^Bearer /, '');
    res.end(`data: ${JSON.stringify({ error: { type: key, code: key, message: `bad key ${key}` } })}\n\n`);
  },
  async longSlow(_req, res) {
    // Nothing is answered until all 200 requests are open at once (or 20 s have passed).
    await allArrived('longSlow', 200, 20_000);
    sse(res);
    for (const word of ['one ', 'two ', 'three']) {
      await sleep(100);
      res.write(chunk({ content: word }));
    }
    res.end(chunk({}, 'stop') + 'data: [DONE]\n\n');
  },
  async flood(_req, res) {
    // As fast as the API takes it: far more than a caller's socket buffers hold, under the 16 MB limit.
    sse(res);
    const piece = chunk({ content: 'z'.repeat(32 * 1024) });
    for (let sent = 0; sent < 12 * 1024 * 1024 && !res.destroyed; sent += piece.length) {
      if (!res.write(piece)) await Promise.race([once(res, 'drain'), once(res, 'close')]).catch(() => undefined);
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

/** A scenario's requests: the first path segment names it. */
const scenario = (name: string) => (request: { url: string }) => request.url.startsWith(`/${name}/`);

describe('replies through the configured LLM', () => {
  let test: TestApi;
  let upstream: TlsUpstream;
  let client: Client;
  let refusedPort: number;
  let silentPort: number;
  let silent: NetServer;
  let untrusted: TlsUpstream;
  let otherName: TlsUpstream;
  const upstreamKey = `sk-${randomBytes(30).toString('base64url')}`;

  beforeAll(async () => {
    const handler = (request: SeenRequest, res: ServerResponse, req: IncomingMessage) =>
      scenarios[request.url.split('/')[1] ?? '']?.(req, res, request.body);
    upstream = await startTlsUpstream(handler);
    // The same answers behind certificates the API must refuse: self-signed, or not naming 127.0.0.2.
    untrusted = await startTlsUpstream(handler, { certificate: 'untrusted' });
    otherName = await startTlsUpstream(handler, { host: '127.0.0.2' });
    refusedPort = await closedPort();
    // Accepts TCP connections and never answers the TLS handshake.
    silent = createTcpServer(() => undefined).listen(0, '127.0.0.1');
    await once(silent, 'listening');
    silentPort = (silent.address() as { port: number }).port;
    test = await startTestApi(['replies'], {
      ...UPSTREAM_ENV,
      AGENTPLANE_EGRESS_ALLOWLIST: `${UPSTREAM_ENV.AGENTPLANE_EGRESS_ALLOWLIST},127.0.0.2`,
      AGENTPLANE_REPLY_HEARTBEAT_MS: '200',
    });
    client = test.client('replies');
  });

  afterAll(async () => {
    await test?.dispose();
    await upstream?.close();
    await untrusted?.close();
    await otherName?.close();
    silent?.close();
  });

  const base = (name: string, port = upstream.port) => `https://127.0.0.1:${port}/${name}/v1`;
  const HI: ReplyRequest = { messages: [{ role: 'user', content: 'Hi' }] };

  async function agentWith(
    llm: Omit<LlmEntryRequest, 'model'>[],
    extra: { temperature?: number; max_tokens?: number; instructions?: string } = {},
  ): Promise<string> {
    const created = await createAgent({
      client,
      body: {
        name: 'relay',
        instructions: 'Be brief.',
        llm: llm.map((e) => ({ model: 'fake-model', api_key: upstreamKey, ...e })),
        ...extra,
      },
    });
    return expectStatus(created, 201).id;
  }

  /** The events of one streamed reply, after checking it is a 200 event stream. */
  async function events(agentId: string, body: ReplyRequest = HI): Promise<ReplyStreamEvent[]> {
    const reply = await streamReply(client, agentId, body);
    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    return reply.events;
  }

  /** The API's log lines for one reply (by its x-request-id), and its runtime lines for one agent. */
  const logLines = (match: (line: Record<string, unknown>) => boolean) =>
    test.api
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter(match);

  /** Waits (up to 5 s) for `count` matching log lines: they are written after the response ends. */
  async function awaitLog(match: (line: Record<string, unknown>) => boolean, count = 1): Promise<void> {
    for (let waited = 0; logLines(match).length < count; waited += 25) {
      if (waited > 5_000) throw new Error(`fewer than ${count} such log lines`);
      await sleep(25);
    }
  }
  const attemptFailed = (agentId: string) => (l: Record<string, unknown>) => l.agent_id === agentId && l.msg === 'llm attempt failed';

  const deltas = (evs: ReplyStreamEvent[]) =>
    evs
      .filter((e) => e.event === 'reply.delta')
      .map((e) => e.data.text)
      .join('');
  const toolCalls = (evs: ReplyStreamEvent[]) => evs.flatMap((e) => (e.event === 'reply.tool_call' ? [e.data] : []));
  const last = (evs: ReplyStreamEvent[]): ReplyStreamEvent => evs.at(-1)!;

  it('relays a chat-completions stream in order, byte-exact across split multi-byte characters, and sends exactly the expected request', async () => {
    const agentId = await agentWith([{ base_url: base('chat') }], { temperature: 0.2, max_tokens: 64 });
    const before = upstream.requests.length;
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
    const [request] = upstream.requests.slice(before);
    expect(request!.url).toBe('/chat/v1/chat/completions');
    expect(request!.headers.authorization).toBe(`Bearer ${upstreamKey}`);
    expect(request!.headers['content-type']).toBe('application/json');
    // Exactly these headers: nothing else that could carry a secret or a caller's data.
    expect(Object.keys(request!.headers).sort()).toEqual(UPSTREAM_HEADERS);
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

  it('logs one line per streamed reply saying how it ended, and no warning or error for a good one', async () => {
    const agentId = await agentWith([{ base_url: base('chat') }]);
    const reply = await streamReply(client, agentId, HI);
    const requestId = reply.headers.get('x-request-id');
    expect(requestId).toEqual(expect.any(String));
    await awaitLog((l) => l.request_id === requestId && l.msg === 'reply streamed');
    const lines = logLines((l) => l.request_id === requestId);
    expect(lines.filter((l) => l.level !== 'info')).toEqual([]);
    expect(lines.filter((l) => l.msg === 'reply streamed')).toEqual([
      expect.objectContaining({ res: { statusCode: 200 }, reply: { outcome: 'completed', entry_index: 0, ttft_ms: expect.any(Number) } }),
    ]);
  });

  it('sends comment heartbeats while the upstream is silent', async () => {
    // About the bytes on the wire (comment lines, which no event parser hands on): read raw.
    const agentId = await agentWith([{ base_url: base('stall'), timeouts: { first_token_ms: 1_500 } }]);
    const res = await fetch(`${test.api.url}/v1/agents/${agentId}/replies`, {
      method: 'POST',
      headers: { authorization: `Bearer ${test.keys.replies}`, 'content-type': 'application/json' },
      body: JSON.stringify(HI),
    });
    const raw = await res.text();
    // After every 200 ms (AGENTPLANE_REPLY_HEARTBEAT_MS) of silence: about 7 before the timeout ends it.
    expect(raw.match(/^: heartbeat$/gm)?.length).toBeGreaterThanOrEqual(4);
    const parsed: EventSourceMessage[] = [];
    createParser({ onEvent: (e) => parsed.push(e) }).feed(raw);
    expect(JSON.parse(parsed.at(-1)!.data)).toMatchObject({ code: 'upstream_timeout_first_token' });
  });

  it('reuses the upstream connection for the next reply once one has completed', async () => {
    const agentId = await agentWith([{ base_url: base('chatWhole') }]);
    await events(agentId);
    // The reply completes at [DONE]; the connection is free once the body's end has been read,
    // a moment later (a reply asked for sooner gets a second connection, also kept).
    await sleep(200);
    const before = upstream.connections();
    for (let i = 0; i < 3; i++) {
      expect(last(await events(agentId)).event).toBe('reply.completed');
      await sleep(200);
    }
    expect(upstream.connections()).toBe(before);
  });

  it('relays a Responses API stream', async () => {
    const agentId = await agentWith([{ base_url: base('responses'), api: 'responses' }]);
    const before = upstream.requests.length;
    const evs = await events(agentId);
    expect(deltas(evs)).toBe(MULTIBYTE);
    expect(last(evs)).toMatchObject({
      event: 'reply.completed',
      data: { finish_reason: 'stop', model: 'fake-responses', usage: { input_tokens: 3, output_tokens: 4, total_tokens: 7 } },
    });
    const [request] = upstream.requests.slice(before);
    expect(request!.url).toBe('/responses/v1/responses');
    expect(JSON.parse(request!.body)).toEqual({
      model: 'fake-model',
      instructions: 'Be brief.',
      input: [{ role: 'user', content: 'Hi' }],
      stream: true,
    });
  });

  it('emits a streamed tool call once, complete (an end_call with JSON arguments)', async () => {
    const agentId = await agentWith([{ base_url: base('tools') }]);
    const evs = await events(agentId);
    expect(toolCalls(evs)).toEqual([{ id: 'call_end', name: 'end_call', arguments: '{"reason":"caller said goodbye"}', system: false }]);
    expect(last(evs)).toMatchObject({ event: 'reply.completed', data: { finish_reason: 'tool_calls' } });
  });

  it('relays calls interleaved by index, and a Responses API function call, each once and complete', async () => {
    const chat = await events(await agentWith([{ base_url: base('twoTools') }]));
    expect(toolCalls(chat)).toEqual([
      { id: 'call_a', name: 'lookup', arguments: '{"q":"zürich"}', system: false },
      { id: 'call_b', name: 'end_call', arguments: '{"reason":"bye"}', system: false },
    ]);
    const responses = await events(await agentWith([{ base_url: base('responsesTool'), api: 'responses' }]));
    expect(toolCalls(responses)).toEqual([{ id: 'call_r', name: 'end_call', arguments: '{"reason":"done"}', system: false }]);
    expect(last(responses)).toMatchObject({ event: 'reply.completed', data: { finish_reason: 'tool_calls', model: 'fake-responses' } });
  });

  it.each([
    ['refuses the connection', () => base('chat', refusedPort), {}, 'upstream_connection_refused'],
    ['never completes the TLS handshake', () => base('chat', silentPort), { timeouts: { connect_ms: 300 } }, 'upstream_connect_timeout'],
    ['serves a certificate from an unknown CA', () => base('chat', untrusted.port), {}, 'upstream_tls_untrusted'],
    ['serves a certificate for other names', () => `https://127.0.0.2:${otherName.port}/chat/v1`, {}, 'upstream_tls_hostname_mismatch'],
    ['answers 500', () => base('status500'), {}, 'upstream_status'],
    ['stalls past the first-token timeout', () => base('stall'), { timeouts: { first_token_ms: 300 } }, 'upstream_timeout_first_token'],
    ['answers a 302', () => base('redirect'), {}, 'egress_refused'],
    ['sends a malformed stream', () => base('garbage'), {}, 'upstream_malformed'],
  ])('falls back when entry 0 %s: entry 1 answers with entry_index 1', async (_label, url, extra, code) => {
    const agentId = await agentWith([{ base_url: url(), ...extra }, { base_url: base('chat') }]);
    const evs = await events(agentId);
    expect(deltas(evs)).toBe(MULTIBYTE);
    expect(last(evs)).toMatchObject({ event: 'reply.completed', data: { entry_index: 1 } });
    await awaitLog(attemptFailed(agentId));
    // The failed attempt is logged with its reason.
    expect(logLines(attemptFailed(agentId))).toEqual([expect.objectContaining({ level: 'warn', entry_index: 0, code, relayed: false })]);
  });

  it('does not fall back after the first token: the stream ends with error', async () => {
    const agentId = await agentWith([{ base_url: base('breaksAfterFirstToken') }, { base_url: base('chat') }]);
    const before = upstream.requests.filter(scenario('chat')).length;
    const evs = await events(agentId);
    expect(evs.map((e) => e.event)).toEqual(['reply.delta', 'error']);
    expect(last(evs)).toEqual({ event: 'error', data: { code: 'upstream_connection_lost', message: expect.any(String) } });
    expect(upstream.requests.filter(scenario('chat')).length).toBe(before);
  });

  it('does not time out a tool call still streaming its arguments past the first-token timeout', async () => {
    // Its arguments take 1.2 s to arrive, after a first chunk at once.
    const agentId = await agentWith([{ base_url: base('slowToolCall'), timeouts: { first_token_ms: 1_000 } }, { base_url: base('chat') }]);
    const evs = await events(agentId);
    expect(toolCalls(evs).map((c) => c.id)).toEqual(['call_slow']);
    expect(last(evs)).toMatchObject({ event: 'reply.completed', data: { finish_reason: 'tool_calls', entry_index: 0 } });
  });

  it.each([
    ['upstream_timeout_first_token', 'stall', { first_token_ms: 300 }],
    ['upstream_idle_timeout', 'idleAfterFirstToken', { idle_ms: 300 }],
    ['upstream_timeout_total', 'slow', { total_ms: 150 }],
    ['upstream_status', 'status500', {}, { upstream_status: 500 }],
    ['egress_refused', 'redirect', {}],
    ['upstream_malformed', 'garbage', {}],
    ['upstream_too_large', 'hugeLine', {}],
  ] as [string, string, Record<string, number>, Record<string, number>?][])(
    'ends with %s when the only entry fails that way',
    async (code, name, timeouts, extra = {}) => {
      const agentId = await agentWith([{ base_url: base(name), timeouts }]);
      const evs = await events(agentId);
      expect(last(evs)).toEqual({ event: 'error', data: { code, message: expect.any(String), ...extra } });
    },
  );

  it('ends with upstream_too_large once a reply passes 16 MB, after relaying what came before', async () => {
    const agentId = await agentWith([{ base_url: base('hugeReply') }]);
    const evs = await events(agentId);
    expect(evs.length).toBeGreaterThan(100);
    expect(last(evs)).toEqual({ event: 'error', data: { code: 'upstream_too_large', message: expect.any(String) } });
  });

  it('answers stream: false with one JSON object, and with the failure’s own code when every entry fails', async () => {
    const ok = await postReply(client, await agentWith([{ base_url: base('tools') }]), { ...HI, stream: false });
    expect(ok.response?.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(expectStatus(ok, 200)).toEqual({
      text: '',
      tool_calls: [{ id: 'call_end', name: 'end_call', arguments: '{"reason":"caller said goodbye"}', system: false }],
      finish_reason: 'tool_calls',
      entry_index: 0,
      model: 'fake-model',
      ttft_ms: expect.any(Number),
      duration_ms: expect.any(Number),
    });
    const failed = await postReply(client, await agentWith([{ base_url: base('status500') }]), { ...HI, stream: false });
    const problem = expectClientProblem(failed, 502, 'upstream_status');
    expect(problem).toMatchObject({ upstream_status: 500 });
    const timedOut = await postReply(client, await agentWith([{ base_url: base('stall'), timeouts: { first_token_ms: 300 } }]), {
      ...HI,
      stream: false,
    });
    expectClientProblem(timedOut, 504, 'upstream_timeout_first_token');
  });

  it.each([
    ['a closed port', () => base('chat', refusedPort), {}, 502, 'upstream_connection_refused'],
    ['a stalled handshake', () => base('chat', silentPort), { connect_ms: 300 }, 504, 'upstream_connect_timeout'],
    ['an unknown CA', () => base('chat', untrusted.port), {}, 502, 'upstream_tls_untrusted'],
    ['a certificate for other names', () => `https://127.0.0.2:${otherName.port}/chat/v1`, {}, 502, 'upstream_tls_hostname_mismatch'],
  ] as [string, () => string, Record<string, number>, number, string][])(
    'answers stream: false behind %s with %i and its own code',
    async (_label, url, timeouts, status, code) => {
      const agentId = await agentWith([{ base_url: url(), timeouts }]);
      const problem = expectClientProblem(await postReply(client, agentId, { ...HI, stream: false }), status, code);
      if (code === 'upstream_tls_untrusted') expect(problem.detail).toContain('NODE_EXTRA_CA_CERTS');
    },
  );

  it('answers stream: false for an agent without llm entries with 409 no_llm_configured (the stream ends with that code)', async () => {
    const agentId = await agentWith([]);
    expectClientProblem(await postReply(client, agentId, { ...HI, stream: false }), 409, 'no_llm_configured');
    expect(last(await events(agentId))).toEqual({ event: 'error', data: { code: 'no_llm_configured', message: expect.any(String) } });
  });

  it('aborts the upstream request at once when the caller disconnects', async () => {
    const agentId = await agentWith([{ base_url: base('endless') }]);
    const closed = upstream.closed(scenario('endless'));
    const controller = new AbortController();
    const { stream } = await createReply({ client, path: { id: agentId }, body: HI, signal: controller.signal, sseMaxRetryAttempts: 1 });
    let abortedAt = 0;
    for await (const data of stream) {
      // The stream is flowing: hang up.
      expect(data).toEqual({ text: '0 ' });
      abortedAt = Date.now();
      controller.abort();
      break;
    }
    const closedAt = await closed;
    expect(abortedAt).toBeGreaterThan(0);
    expect(closedAt - abortedAt).toBeLessThan(1000);
  });

  it('closes the connection of a caller that stops reading, soon after the reply deadline', async () => {
    const agentId = await agentWith([{ base_url: base('flood'), timeouts: { total_ms: 1_000 } }]);
    const body = JSON.stringify(HI);
    const { hostname, port } = new URL(test.api.url);
    const requestId = `stalled-${randomBytes(6).toString('hex')}`;
    const socket = connect(Number(port), hostname);
    // A reset counts as closed too.
    socket.on('error', () => undefined);
    const closed = once(socket, 'close').then(() => 'closed');
    await once(socket, 'connect');
    socket.pause();
    socket.write(
      `POST /v1/agents/${agentId}/replies HTTP/1.1\r\nHost: ${hostname}:${port}\r\nAuthorization: Bearer ${test.keys.replies}\r\nX-Request-Id: ${requestId}\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
    try {
      // Nothing is read until well past the deadline (1 s) and the API's grace for the rest (2 s).
      await sleep(5_000);
      // Reading now gets what the kernel still holds, then the end the API sent: not an open socket.
      socket.resume();
      expect(await Promise.race([closed, sleep(3_000).then(() => 'still open')])).toBe('closed');
    } finally {
      socket.destroy();
    }
    // The deadline ended the reply while the caller held it up, and the API cut the response off.
    await awaitLog((l) => l.request_id === requestId && l.msg === 'reply streamed');
    expect(logLines((l) => l.request_id === requestId && l.msg === 'reply streamed')).toEqual([
      expect.objectContaining({ reply: { outcome: 'caller_stalled', code: 'upstream_timeout_total' } }),
    ]);
  });

  it.each([
    [
      'is deleted (force)',
      'credential_unavailable',
      (c: Client, id: string) => deleteCredential({ client: c, path: { id }, query: { force: 'true' } }),
    ],
    [
      'no longer allows the origin',
      'egress_refused',
      (c: Client, id: string) =>
        replaceCredential({ client: c, path: { id }, body: { name: 'fallback', allowed_origins: ['https://elsewhere.example'] } }),
    ],
  ])('does not fall back to an entry whose org credential %s after the reply began', async (_label, code, change) => {
    const fallbackKey = `sk-fallback-${randomBytes(24).toString('base64url')}`;
    const created = await createCredential({
      client,
      body: {
        name: 'fallback',
        api_key: fallbackKey,
        allowed_origins: [`https://127.0.0.1:${upstream.port}`, 'https://elsewhere.example'],
      },
    });
    const credentialId = expectStatus(created, 201).id;
    const agentId = expectStatus(
      await createAgent({
        client,
        body: {
          name: 'relay',
          llm: [
            { base_url: base('held'), model: 'fake-model', api_key: upstreamKey },
            { base_url: base('chat'), model: 'fake-model', credential_id: credentialId },
          ],
        },
      }),
      201,
    ).id;
    heldGate = gate();
    const reply = events(agentId);
    // Entry 0 is waiting upstream: the reply has begun, its agent and credentials are loaded.
    await heldGate.reached;
    try {
      const changed = await change(client, credentialId);
      expect(changed.response?.status).toBeLessThan(300);
    } finally {
      heldGate.open();
    }
    expect(last(await reply)).toEqual({ event: 'error', data: { code, message: expect.any(String) } });
    expect(upstream.requests.filter((r) => r.headers.authorization === `Bearer ${fallbackKey}`)).toEqual([]);
  });

  it('never relays or logs an upstream error body that echoes the key', async () => {
    const agentId = await agentWith([{ base_url: base('echo401') }]);
    const evs = await events(agentId);
    expect(last(evs)).toEqual({ event: 'error', data: { code: 'upstream_status', message: expect.any(String), upstream_status: 401 } });
    const failed = await postReply(client, agentId, { ...HI, stream: false });
    expectClientProblem(failed, 502, 'upstream_status');
    // Both attempts' lines have landed before the log is searched.
    await awaitLog(attemptFailed(agentId), 2);
    const answered = JSON.stringify(evs) + JSON.stringify(failed.error);
    expect([...canaryLeaks(answered, upstreamKey, 'responses'), ...canaryLeaks(test.api.output(), upstreamKey, 'API log')]).toEqual([]);
  });

  it('never relays or logs a key an upstream puts in an in-stream error', async () => {
    const agentId = await agentWith([{ base_url: base('streamErrorEcho') }]);
    const evs = await events(agentId);
    expect(last(evs)).toEqual({
      event: 'error',
      data: { code: 'upstream_error', message: 'The upstream reported an error in the stream.' },
    });
    const failed = await postReply(client, agentId, { ...HI, stream: false });
    expect(failed.response?.status).toBe(502);
    await awaitLog(attemptFailed(agentId), 2);
    const answered = JSON.stringify(evs) + JSON.stringify(failed.error);
    expect([...canaryLeaks(answered, upstreamKey, 'responses'), ...canaryLeaks(test.api.output(), upstreamKey, 'API log')]).toEqual([]);
  });

  it('ends with credential_unavailable when the stored key does not open, and egress_refused when its origins no longer allow the base_url', async () => {
    const damaged = await agentWith([{ base_url: base('chat') }]);
    const narrowed = await agentWith([{ base_url: base('chat') }]);
    const db = await openTestDatabase(test.storage, { attach: true });
    try {
      const pg = await db.client();
      const credentialOf = async (agentId: string) =>
        (await pg.query<{ credential_id: string }>('SELECT credential_id FROM agent_llm_entries WHERE agent_id = $1', [agentId])).rows[0]!
          .credential_id;
      await pg.query(`UPDATE credentials SET ciphertext = decode(repeat('00', length(ciphertext)), 'hex') WHERE id = $1`, [
        await credentialOf(damaged),
      ]);
      await pg.query(`UPDATE credentials SET allowed_origins = ARRAY['https://elsewhere.example'] WHERE id = $1`, [
        await credentialOf(narrowed),
      ]);
    } finally {
      await db.close();
    }
    const before = upstream.requests.length;
    expect(last(await events(damaged))).toEqual({ event: 'error', data: { code: 'credential_unavailable', message: expect.any(String) } });
    expect(last(await events(narrowed))).toEqual({ event: 'error', data: { code: 'egress_refused', message: expect.any(String) } });
    // Neither reached the upstream.
    expect(upstream.requests.length).toBe(before);
  });

  it('fills the instructions from variables, sends user_id as user, and refuses a placeholder without a value before streaming', async () => {
    const agentId = await agentWith([{ base_url: base('chat') }], { instructions: 'Help {{name}} with {{topic}}.' });
    const before = upstream.requests.length;
    // One pass: a value that looks like a placeholder is sent as written.
    await events(agentId, untyped({ ...HI, variables: { name: 'Ada', topic: '{{name}}' }, user_id: 'user_42' }));
    const [request] = upstream.requests.slice(before);
    expect(JSON.parse(request!.body)).toMatchObject({
      messages: [
        { role: 'system', content: 'Help Ada with {{name}}.' },
        { role: 'user', content: 'Hi' },
      ],
      user: 'user_42',
    });
    // The stream is refused before it starts: a problem, no event, no upstream call.
    const streamed = await streamReply(client, agentId, untyped({ ...HI, variables: { name: 'Ada' } }));
    expect({ status: streamed.status, events: streamed.events }).toEqual({ status: 422, events: [] });
    const whole = expectClientProblem(await postReply(client, agentId, untyped({ ...HI, stream: false })), 422, 'validation_failed');
    expect(whole.errors).toEqual([
      expect.objectContaining({ path: 'variables.name', code: 'missing_variable' }),
      expect.objectContaining({ path: 'variables.topic', code: 'missing_variable' }),
    ]);
    const invalid = expectClientProblem(
      await postReply(client, agentId, untyped({ ...HI, variables: { name: 'Ada', topic: 7, 'not a name': 'x' } })),
      422,
      'validation_failed',
    );
    expect(invalid.errors).toEqual([
      expect.objectContaining({ path: 'variables.topic', code: 'is_string' }),
      expect.objectContaining({ path: 'variables["not a name"]', code: 'invalid_variable_name' }),
    ]);
    expect(upstream.requests.length).toBe(before + 1);
  });

  it('answers 404 for another organization’s agent, and 422 for bad messages', async () => {
    const agentId = await agentWith([{ base_url: base('chat') }]);
    const other = apiClient(test.api.url, await test.newKey('replies-other'));
    expectClientProblem(await postReply(other, agentId, { messages: [{ role: 'user', content: 'x' }] }), 404, 'not_found');
    // The streaming call sees the same refusal: a 404 and no event.
    const refused = await streamReply(other, agentId, { messages: [{ role: 'user', content: 'x' }] });
    expect({ status: refused.status, events: refused.events }).toEqual({ status: 404, events: [] });
    for (const body of [
      { messages: [] },
      { messages: [{ role: 'robot', content: 'x' }] },
      { messages: [{ role: 'tool', content: 'x' }] },
      { messages: Array(501).fill({ role: 'user', content: 'x' }) },
    ]) {
      expectClientProblem(await postReply(client, agentId, untyped(body)), 422, 'validation_failed');
    }
    // Fields of another role are refused here, not by the upstream later.
    const wrongRole = expectClientProblem(
      await postReply(client, agentId, {
        messages: [
          { role: 'user', content: 'x', tool_calls: [{ id: 'c', name: 'f', arguments: '{}' }] },
          { role: 'assistant', content: 'y', tool_call_id: 'c' },
        ],
      }),
      422,
      'validation_failed',
    );
    expect(wrongRole.errors).toEqual([
      expect.objectContaining({ path: 'messages[0].tool_calls', code: 'only_for_role' }),
      expect.objectContaining({ path: 'messages[1].tool_call_id', code: 'only_for_role' }),
    ]);
    // Over 256 KB.
    const huge = {
      messages: [
        { role: 'user' as const, content: 'x'.repeat(150_000) },
        { role: 'user' as const, content: 'x'.repeat(150_000) },
      ],
    };
    expectClientProblem(await postReply(client, agentId, huge), 413, 'payload_too_large');
  });

  it('relays 200 concurrent streams against a slow upstream, each complete and in order', async () => {
    const agentId = await agentWith([{ base_url: base('longSlow') }]);
    const results = await Promise.all(Array.from({ length: 200 }, () => events(agentId)));
    for (const evs of results) {
      expect(deltas(evs)).toBe('one two three');
      expect(last(evs).event).toBe('reply.completed');
    }
    // They really were open upstream at the same time: the upstream held every one until all were.
    expect(upstream.peak(scenario('longSlow'))).toBe(200);
  });
});

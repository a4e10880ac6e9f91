import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { join } from 'node:path';
import type { Agent, AgentList } from '../clients/typescript/index.js';
import { canaryLeaks } from './support/canary.js';
import { openTestDatabase } from './support/db-client.js';
import { type Body, hintOf, send, sleep } from './support/http.js';
import { type CliResult, runCli, type RunningApi } from './support/processes.js';
import { openStoredSecrets } from './support/sealed-secrets.js';
import { usingPostgres, type TestStorage } from './support/storage.js';
import { startTestApi, type TestApi } from './support/test-api.js';
import { type SeenRequest, startTlsUpstream, type TlsUpstream, UPSTREAM_ENV } from './support/tls-upstream.js';

/**
 * A secret header value (`headers: [{name, secret_value}]`) is sealed like a key: after being sent
 * through every agent route that can receive one, error paths included, and really sent upstream
 * by replies, no piece of it is in any response, log line or row; the sealed copy opens to it.
 */

// Random, with no fixed prefix, so a match can only be the secret itself.
const canary = randomBytes(48).toString('base64url'); // 64 characters
const rotatedCanary = randomBytes(48).toString('base64url');
const canaries = [
  ['canary', canary],
  ['rotation canary', rotatedCanary],
] as const;

/** The header the agent sends the secret in, and a plain one next to it. */
const SECRET_HEADER = 'X-Gateway-Key';
const PLAIN_HEADER = { name: 'X-Team', value: 'voice' };
// The entry's own key: not a canary, so that a secret in the wrong header would show.
const upstreamKey = `sk-${randomBytes(30).toString('base64url')}`;
const MERGE_PATCH = { 'content-type': 'application/merge-patch+json' };
const HI = { messages: [{ role: 'user', content: 'Hi' }] };

interface Exchange {
  readonly label: string;
  readonly status: number;
  readonly headers: string;
  readonly body: string;
}

const chunk = (delta: Record<string, unknown>, finish: string | null = null) =>
  `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', model: 'fake-model', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;

/** The fake upstreams' answers, by the first path segment. */
const scenarios: Record<string, (request: SeenRequest, res: ServerResponse) => void> = {
  ok(_request, res) {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.end([chunk({ role: 'assistant', content: 'Hello' }), chunk({}, 'stop'), 'data: [DONE]\n\n'].join(''));
  },
  echo401(request, res) {
    // A hostile upstream that repeats every header it got, the secret one included, in its error body.
    const value = String(request.headers['x-gateway-key']);
    res
      .writeHead(401, { 'content-type': 'application/json', 'x-echo': value })
      .end(JSON.stringify({ error: { message: `Invalid gateway key ${value}`, headers: JSON.stringify(request.headers) } }));
  },
  streamEcho(request, res) {
    // Accepted, then an in-stream error that carries the secret header's value everywhere it can.
    const value = String(request.headers['x-gateway-key']);
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.end(`data: ${JSON.stringify({ error: { type: value, code: value, message: `bad gateway key ${value}`, param: value } })}\n\n`);
  },
  redirectEcho(request, res) {
    // A redirect whose target holds the secret header's value.
    const value = String(request.headers['x-gateway-key']);
    res.writeHead(302, { location: `/ok/v1/chat/completions?gateway_key=${value}`, 'x-echo': value }).end(value);
  },
  down(_request, res) {
    res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":{"message":"overloaded"}}');
  },
};

/** Every file under `dir`, recursively. */
async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(path)));
    else if (entry.isFile()) out.push(path);
  }
  return out;
}

describe('a secret header value never leaves again (canary)', () => {
  // Raw requests throughout: what is checked is every byte that comes back.
  let test: TestApi;
  let storage: TestStorage;
  let api: RunningApi;
  let key: string;
  let otherKey: string;
  /** Holds the secret header (origin A); `other` (origin B, another port) must never get it. */
  let upstream: TlsUpstream;
  let other: TlsUpstream;
  const exchanges: Exchange[] = [];
  const cliRuns: { label: string; result: CliResult }[] = [];
  let agentId: string;
  /** The credential that held the first canary, deleted by the rotation. */
  let firstSecretId: string;
  let stopped: { code: number | null; signal: NodeJS.Signals | null } | undefined;

  const serve = (request: SeenRequest, res: ServerResponse): void => {
    const handler = scenarios[request.url.split('/')[1] ?? ''];
    if (handler === undefined) res.writeHead(404).end();
    else handler(request, res);
  };

  beforeAll(async () => {
    upstream = await startTlsUpstream(serve);
    other = await startTlsUpstream(serve);
    test = await startTestApi(['header-canary-org', 'header-canary-other-org'], { ...UPSTREAM_ENV, LOG_LEVEL: 'trace' });
    ({ storage, api } = test);
    key = test.keys['header-canary-org']!;
    otherKey = test.keys['header-canary-other-org']!;
  });

  afterAll(async () => {
    await test?.dispose();
    await upstream?.close();
    await other?.close();
  });

  const base = (name: string, server = upstream) => `https://127.0.0.1:${server.port}/${name}/v1`;

  /** Sends a request and records its status, every header and the whole body text (a stream read to its end). */
  async function record(
    label: string,
    method: string,
    path: string,
    body?: Body,
    options: { as?: string | null; headers?: Record<string, string> } = {},
  ): Promise<Exchange> {
    const as = options.as === null ? undefined : (options.as ?? key);
    const res = await send(api.url, method, path, as, body, options.headers);
    const exchange: Exchange = {
      label: `${label} (${method} ${path.replaceAll(canary, '<canary>').replaceAll(rotatedCanary, '<rotation canary>')})`,
      status: res.status,
      headers: [...res.headers].map(([name, value]) => `${name}: ${value}`).join('\n'),
      body: await res.text(),
    };
    exchanges.push(exchange);
    return exchange;
  }

  // Checks on what came back never print it: it may hold a canary, and a failure must not show one.
  function expectStatus(e: Exchange, status: number): void {
    expect({ label: e.label, status: e.status }).toEqual({ label: e.label, status });
  }

  function expectIn(text: string, needle: string, where: string): void {
    expect({ where, needle, found: text.includes(needle) }).toEqual({ where, needle, found: true });
  }

  /** Some members of a JSON answer, to compare without showing the rest. */
  function fieldsOf(e: Exchange, ...names: string[]): Record<string, unknown> {
    const body = JSON.parse(e.body) as Record<string, unknown>;
    return Object.fromEntries(names.map((name) => [name, body[name]]));
  }

  /** The problem code of an answer and the codes of its field errors (fixed strings only). */
  function codesOf(e: Exchange): string[] {
    const problem = JSON.parse(e.body) as { code?: unknown; errors?: { code?: unknown }[] };
    return [problem.code, ...(problem.errors ?? []).map((f) => f.code)].filter(
      (c): c is string => typeof c === 'string' && /^[a-z_]+$/.test(c),
    );
  }

  /** A secret header entry at `baseUrl`, keeping the entry's key. */
  const entry = (baseUrl: string, secret: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
    base_url: baseUrl,
    model: 'fake-model',
    headers: [PLAIN_HEADER, { name: SECRET_HEADER, ...secret }],
    ...extra,
  });
  const agentBody = (llm: Record<string, unknown>[], extra: Record<string, unknown> = {}) => ({ name: 'Front desk', llm, ...extra });

  /** The requests to `server` since `before`, found by scenario. */
  const seenSince = (server: TlsUpstream, before: number, name: string) =>
    server.requests.slice(before).filter((r) => r.url.startsWith(`/${name}/`));

  /** A streamed reply and a `stream: false` one, recorded; returns the raw exchanges. */
  async function replies(label: string): Promise<[Exchange, Exchange]> {
    const streamed = await record(`${label}, streamed`, 'POST', `/v1/agents/${agentId}/replies`, HI);
    const whole = await record(`${label}, stream: false`, 'POST', `/v1/agents/${agentId}/replies`, { ...HI, stream: false });
    return [streamed, whole];
  }

  /** The secret credential id each header of the agent's entries holds, read from the database. */
  async function storedHeaders(): Promise<{ name: string; credential_id?: string; value_hint?: string; value?: string }[][]> {
    const db = await openTestDatabase(storage, { attach: true });
    try {
      const pg = await db.client();
      const { rows } = await pg.query<{ headers: { name: string; credential_id?: string }[] }>(
        'SELECT headers FROM agent_llm_entries WHERE agent_id = $1 ORDER BY position',
        [agentId],
      );
      return rows.map((r) => r.headers);
    } finally {
      await db.close();
    }
  }

  it('sends the secret header upstream, and the rotated one after a rotation, through every route', async () => {
    // --- Create, with an Idempotency-Key, and its replay.
    const idempotencyKey = `create-${randomBytes(8).toString('hex')}`;
    const createBody = agentBody([entry(base('ok'), { secret_value: canary }, { api_key: upstreamKey })]);
    const idem = { headers: { 'idempotency-key': idempotencyKey } };
    const created = await record('create', 'POST', '/v1/agents', createBody, idem);
    expectStatus(created, 201);
    const agent = JSON.parse(created.body) as Agent;
    agentId = agent.id;
    expect(agent.llm[0]!.headers).toEqual([PLAIN_HEADER, { name: SECRET_HEADER, value_hint: hintOf(canary) }]);
    const replayed = await record('create, replayed', 'POST', '/v1/agents', createBody, idem);
    expectStatus(replayed, 201);
    expectIn(replayed.headers, 'idempotent-replayed: true', replayed.label);
    expect(JSON.parse(replayed.body)).toEqual(agent);
    const reused = await record(
      'create, the same Idempotency-Key with another secret',
      'POST',
      '/v1/agents',
      agentBody([entry(base('ok'), { secret_value: rotatedCanary }, { api_key: upstreamKey })]),
      idem,
    );
    expectStatus(reused, 422);
    expect(codesOf(reused)).toContain('idempotency_key_reused');
    const [stored] = await storedHeaders();
    expect(stored).toEqual([
      PLAIN_HEADER,
      { name: SECRET_HEADER, credential_id: expect.stringMatching(/^cred_/), value_hint: hintOf(canary) },
    ]);
    firstSecretId = stored![1]!.credential_id!;

    // --- Reads.
    expectStatus(await record('get', 'GET', `/v1/agents/${agentId}`), 200);
    const listed = await record('list', 'GET', '/v1/agents');
    expectStatus(listed, 200);
    expect((JSON.parse(listed.body) as AgentList).data.map((a) => a.id)).toEqual([agentId]);
    expectStatus(await record('list page', 'GET', '/v1/agents?limit=1'), 200);

    // --- Replies really send it, in the configured header and nowhere else.
    let before = upstream.requests.length;
    const [streamed, whole] = await replies('reply');
    expectStatus(streamed, 200);
    expectIn(streamed.body, 'event: reply.completed', streamed.label);
    expectStatus(whole, 200);
    expect(fieldsOf(whole, 'text', 'finish_reason', 'entry_index')).toEqual({ text: 'Hello', finish_reason: 'stop', entry_index: 0 });
    const sent = seenSince(upstream, before, 'ok');
    expect(sent).toHaveLength(2);
    for (const request of sent) {
      expect(request.headers['x-gateway-key']).toBe(canary);
      expect(request.headers.authorization).toBe(`Bearer ${upstreamKey}`);
      expect(request.headers['x-team']).toBe('voice');
      // Only there: not in the body, not in any other header.
      expect(canaryLeaks(request.body, canary, 'upstream body')).toEqual([]);
      const others = Object.entries(request.headers).filter(([name]) => name !== 'x-gateway-key');
      expect(canaryLeaks(JSON.stringify(others), canary, 'other upstream headers')).toEqual([]);
    }

    // --- PUT keeping it (`{name}` alone; a value_hint sent back is ignored), and PATCHes of other members.
    const kept = await record(
      'replace, keeping the secret',
      'PUT',
      `/v1/agents/${agentId}`,
      agentBody([entry(base('ok'), { value_hint: hintOf(canary) })], { name: 'Front desk (kept)' }),
    );
    expectStatus(kept, 200);
    expect((JSON.parse(kept.body) as Agent).llm[0]!.headers).toEqual([PLAIN_HEADER, { name: SECRET_HEADER, value_hint: hintOf(canary) }]);
    const patched = await record(
      'patch other members',
      'PATCH',
      `/v1/agents/${agentId}`,
      { name: 'Evening desk', metadata: { team: 'support' } },
      { headers: MERGE_PATCH },
    );
    expectStatus(patched, 200);
    const read = JSON.parse(patched.body) as Agent;
    expect(read.llm[0]!.headers).toEqual([PLAIN_HEADER, { name: SECRET_HEADER, value_hint: hintOf(canary) }]);
    // The llm array as a read shows it, with another member of the entry changed.
    const llmPatch = { llm: [{ ...read.llm[0]!, timeouts: { first_token_ms: 20_000 } }] };
    const patchedEntry = await record('patch the entry, as read', 'PATCH', `/v1/agents/${agentId}`, llmPatch, { headers: MERGE_PATCH });
    expectStatus(patchedEntry, 200);
    expect((JSON.parse(patchedEntry.body) as Agent).llm[0]!.headers).toEqual([
      PLAIN_HEADER,
      { name: SECRET_HEADER, value_hint: hintOf(canary) },
    ]);
    before = upstream.requests.length;
    expectStatus((await replies('reply after keeping'))[1], 200);
    expect(seenSince(upstream, before, 'ok').map((r) => r.headers['x-gateway-key'])).toEqual([canary, canary]);

    // --- PUT rotating it: the new value is sent, the old credential is gone.
    const rotated = await record(
      'replace, rotating the secret',
      'PUT',
      `/v1/agents/${agentId}`,
      agentBody([entry(base('ok'), { secret_value: rotatedCanary })]),
    );
    expectStatus(rotated, 200);
    expect((JSON.parse(rotated.body) as Agent).llm[0]!.headers).toEqual([
      PLAIN_HEADER,
      { name: SECRET_HEADER, value_hint: hintOf(rotatedCanary) },
    ]);
    before = upstream.requests.length;
    const afterRotation = await replies('reply after rotating');
    for (const e of afterRotation) expectStatus(e, 200);
    expect(seenSince(upstream, before, 'ok').map((r) => [r.headers['x-gateway-key'], r.headers.authorization])).toEqual([
      [rotatedCanary, `Bearer ${upstreamKey}`],
      [rotatedCanary, `Bearer ${upstreamKey}`],
    ]);

    // --- A reply that fails: the upstream echoes the secret header in a 401 body and header.
    expectStatus(
      await record('replace, pointing at a hostile upstream', 'PUT', `/v1/agents/${agentId}`, agentBody([entry(base('echo401'), {})])),
      200,
    );
    before = upstream.requests.length;
    const [failedStream, failedWhole] = await replies('reply the upstream refuses');
    expectStatus(failedStream, 200);
    expectIn(failedStream.body, '"upstream_status":401', failedStream.label);
    expectStatus(failedWhole, 502);
    expect(fieldsOf(failedWhole, 'code', 'upstream_status')).toEqual({ code: 'upstream_status', upstream_status: 401 });
    expect(seenSince(upstream, before, 'echo401').map((r) => r.headers['x-gateway-key'])).toEqual([rotatedCanary, rotatedCanary]);

    // --- Accepted, then an error in the stream that echoes it; and a redirect whose target holds it.
    for (const [name, code] of [
      ['streamEcho', 'upstream_error'],
      ['redirectEcho', 'egress_refused'],
    ] as const) {
      expectStatus(await record(`replace, pointing at ${name}`, 'PUT', `/v1/agents/${agentId}`, agentBody([entry(base(name), {})])), 200);
      before = upstream.requests.length;
      const [echoStream, echoWhole] = await replies(`reply from ${name}`);
      expectStatus(echoStream, 200);
      expectIn(echoStream.body, `"code":"${code}"`, echoStream.label);
      expect(echoWhole.status).toBeGreaterThanOrEqual(500);
      expect(codesOf(echoWhole)).toEqual([code]);
      expect(seenSince(upstream, before, name).map((r) => r.headers['x-gateway-key'])).toEqual([rotatedCanary, rotatedCanary]);
    }

    // --- A fallback entry at another origin: it answers, without the secret header.
    const fallbackEntry = { base_url: base('ok', other), model: 'fake-model', auth: 'none', headers: [PLAIN_HEADER] };
    expectStatus(
      await record('replace, with a fallback at another origin', 'PUT', `/v1/agents/${agentId}`, {
        name: 'Front desk',
        llm: [entry(base('down'), {}), fallbackEntry],
      }),
      200,
    );
    before = upstream.requests.length;
    const beforeOther = other.requests.length;
    const fellBack = await replies('reply that falls back');
    for (const e of fellBack) expectStatus(e, 200);
    expectIn(fellBack[0].body, '"entry_index":1', fellBack[0].label);
    expect(fieldsOf(fellBack[1], 'text', 'entry_index')).toEqual({ text: 'Hello', entry_index: 1 });
    expect(seenSince(upstream, before, 'down').map((r) => r.headers['x-gateway-key'])).toEqual([rotatedCanary, rotatedCanary]);
    const atOther = other.requests.slice(beforeOther);
    expect(atOther.map((r) => r.url)).toEqual(['/ok/v1/chat/completions', '/ok/v1/chat/completions']);
    for (const request of atOther) {
      expect(request.headers).not.toHaveProperty('x-gateway-key');
      expect(request.headers).not.toHaveProperty('authorization');
      expect(request.headers['x-team']).toBe('voice');
    }
    // Nor can a stored secret be carried to that origin by name.
    const carried = await record('replace, keeping the secret for the other origin', 'PUT', `/v1/agents/${agentId}`, {
      name: 'Front desk',
      llm: [entry(base('down'), {}), { ...fallbackEntry, headers: [{ name: SECRET_HEADER }] }],
    });
    expectStatus(carried, 422);
    expect(codesOf(carried)).toContain('secret_value_required');
    const moved = await record('replace, moving the secret to the other origin', 'PUT', `/v1/agents/${agentId}`, {
      name: 'Front desk',
      llm: [entry(base('ok', other), {}, { auth: 'none' })],
    });
    expectStatus(moved, 422);
    expect(codesOf(moved)).toContain('secret_value_required');

    // --- Error paths that receive a canary.
    const post = async (label: string, body: Body, status: number, code?: string, headers?: Record<string, string>) => {
      const e = await record(label, 'POST', '/v1/agents', body, headers === undefined ? {} : { headers });
      expectStatus(e, status);
      if (code !== undefined) expect({ label, codes: codesOf(e) }).toEqual({ label, codes: expect.arrayContaining([code]) });
    };
    const secretEntry = (header: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
      base_url: base('ok'),
      model: 'fake-model',
      api_key: upstreamKey,
      headers: [header],
      ...extra,
    });
    const withHeaders = (...headers: Record<string, unknown>[]) =>
      agentBody([{ base_url: base('ok'), model: 'fake-model', api_key: upstreamKey, headers }]);
    for (const [label, value] of canaries) {
      await post(
        `invalid header name next to the ${label}`,
        withHeaders({ name: 'X Bad', value: 'v' }, { name: SECRET_HEADER, secret_value: value }),
        422,
        'invalid_header_name',
      );
      await post(`the ${label} under a reserved name`, withHeaders({ name: 'Authorization', secret_value: value }), 422, 'reserved_header');
      await post(`the ${label} under host`, withHeaders({ name: 'Host', secret_value: value }), 422, 'reserved_header');
      await post(
        `the ${label} under the auth header`,
        agentBody([secretEntry({ name: 'x-api-key', secret_value: value }, { auth: 'x_api_key' })]),
        422,
        'reserved_header',
      );
      await post(
        `the ${label} under a duplicate name`,
        withHeaders({ name: SECRET_HEADER, secret_value: value }, { name: SECRET_HEADER.toLowerCase(), secret_value: value }),
        422,
        'duplicate_header',
      );
      await post(
        `the ${label} as value and secret_value`,
        withHeaders({ name: SECRET_HEADER, value, secret_value: value }),
        422,
        'validation_failed',
      );
      await post(`the ${label} too long`, withHeaders({ name: SECRET_HEADER, secret_value: value.repeat(70) }), 422, 'is_length');
      await post(
        `the ${label} with CR LF`,
        withHeaders({ name: SECRET_HEADER, secret_value: `${value}\r\n` }),
        422,
        'invalid_header_value',
      );
      await post(
        `the ${label} with an inner LF`,
        withHeaders({ name: SECRET_HEADER, secret_value: `${value.slice(0, 32)}\n${value.slice(32)}` }),
        422,
        'invalid_header_value',
      );
      await post(
        `the ${label} with an inner CR LF and a header`,
        withHeaders({ name: SECRET_HEADER, secret_value: `${value}\r\nX-Injected: 1` }),
        422,
        'invalid_header_value',
      );
      await post(`the ${label} with a NUL`, withHeaders({ name: SECRET_HEADER, secret_value: `${value}\u0000` }), 422, 'validation_failed');
      await post(`the ${label} as an array`, withHeaders({ name: SECRET_HEADER, secret_value: [value] }), 422, 'is_string');
      await post(`the ${label} as an object`, withHeaders({ name: SECRET_HEADER, secret_value: { value } }), 422, 'is_string');
      await post(`the ${label} under an unknown member`, withHeaders({ name: SECRET_HEADER, secret: value }), 422, 'validation_failed');
      await post(
        `a masked hint next to the ${label}`,
        withHeaders({ name: 'X-Other', secret_value: `****${value.slice(-4)}` }, { name: SECRET_HEADER, secret_value: value }),
        422,
        'masked_value_submitted',
      );
      await post(
        `the ${label} with a private base_url`,
        agentBody([secretEntry({ name: SECRET_HEADER, secret_value: value }, { base_url: 'https://10.0.0.1/v1' })]),
        422,
        'private_host',
      );
      await post(
        `the ${label} with a metadata base_url`,
        agentBody([secretEntry({ name: SECRET_HEADER, secret_value: value }, { base_url: 'https://169.254.169.254/v1' })]),
        422,
        'private_host',
      );
      await post(
        `the ${label} with an http base_url`,
        agentBody([secretEntry({ name: SECRET_HEADER, secret_value: value }, { base_url: `http://127.0.0.1:${upstream.port}/ok/v1` })]),
        422,
      );
      await post(
        `the ${label} with no key source`,
        agentBody([secretEntry({ name: SECRET_HEADER, secret_value: value }, { api_key: undefined })]),
        422,
        'api_key_required',
      );
      await post(
        `the ${label}, body too large`,
        { ...withHeaders({ name: SECRET_HEADER, secret_value: value }), pad: value.repeat(5000) },
        413,
      );
      await post(
        `the ${label}, malformed JSON`,
        `{"name":"x","llm":[{"headers":[{"name":"${SECRET_HEADER}","secret_value":"${value}"}`,
        400,
      );
      await post(`the ${label}, malformed JSON, bad escape`, `{"llm":[{"headers":[{"secret_value":"${value}\\q"}]}]}`, 400);
      await post(`the ${label}, not JSON`, `secret_value=${value}`, 400);
      await post(`the ${label}, text/plain`, JSON.stringify(withHeaders({ name: SECRET_HEADER, secret_value: value })), 415, undefined, {
        'content-type': 'text/plain',
      });
      expectStatus(
        await record(`the ${label}, no API key`, 'POST', '/v1/agents', withHeaders({ name: SECRET_HEADER, secret_value: value }), {
          as: null,
        }),
        401,
      );

      const put = async (
        label2: string,
        id: string,
        body: Body,
        status: number,
        options: { as?: string; headers?: Record<string, string> } = {},
      ) => expectStatus(await record(label2, 'PUT', `/v1/agents/${id}`, body, options), status);
      const valid = agentBody([entry(base('ok'), { secret_value: value })]);
      await put(`the ${label} to an unknown agent`, 'agt_00000000000000000000000000', valid, 404);
      await put(`the ${label} to another org's agent`, agentId, valid, 404, { as: otherKey });
      await put(`the ${label} with a stale If-Match`, agentId, valid, 412, { headers: { 'if-match': '"stale"' } });
      await put(`the ${label} under a reserved name, PUT`, agentId, withHeaders({ name: 'Content-Type', secret_value: value }), 422);
      await put(
        `the ${label} with a private base_url, PUT`,
        agentId,
        agentBody([entry('https://192.168.1.10/v1', { secret_value: value })]),
        422,
      );
      await put(`the ${label}, malformed JSON, PUT`, agentId, `{"llm":[{"headers":[{"secret_value":"${value}`, 400);
      await put(`the ${label}, body too large, PUT`, agentId, { ...valid, pad: value.repeat(5000) }, 413);

      const patch = async (label2: string, id: string, body: Body, status: number, as?: string) =>
        expectStatus(
          await record(label2, 'PATCH', `/v1/agents/${id}`, body, { headers: MERGE_PATCH, ...(as === undefined ? {} : { as }) }),
          status,
        );
      await patch(
        `the ${label} patched into an unknown agent`,
        'agt_00000000000000000000000000',
        { llm: [entry(base('ok'), { secret_value: value })] },
        404,
      );
      await patch(
        `the ${label} patched into another org's agent`,
        agentId,
        { llm: [entry(base('ok'), { secret_value: value })] },
        404,
        otherKey,
      );
      await patch(`the ${label} patched in with CR LF`, agentId, { llm: [entry(base('ok'), { secret_value: `${value}\r\n` })] }, 422);
      await patch(
        `the ${label} patched in as value and secret_value`,
        agentId,
        { llm: [entry(base('ok'), { value, secret_value: value })] },
        422,
      );
      await patch(
        `the ${label} patched in with a private base_url`,
        agentId,
        { llm: [entry('https://10.0.0.1/v1', { secret_value: value })] },
        422,
      );
      await patch(`the ${label} patched in, not an object`, agentId, [{ secret_value: value }] as unknown as Body, 422);
      await patch(`the ${label}, malformed merge patch`, agentId, `{"llm":[{"headers":[{"secret_value":"${value}"`, 400);

      // Where secrets do not belong: headers and the query of our own API.
      const asHeader = { headers: { [SECRET_HEADER]: value, 'x-api-key': value } };
      expectStatus(await record(`the ${label} in request headers`, 'GET', `/v1/agents/${agentId}`, undefined, asHeader), 200);
      expectStatus(
        await record(
          `the ${label} in request headers of a reply`,
          'POST',
          `/v1/agents/${agentId}/replies`,
          { ...HI, stream: false },
          asHeader,
        ),
        200,
      );
      expectStatus(await record(`the ${label} as the bearer token`, 'GET', '/v1/agents', undefined, { as: value }), 401);
      expectStatus(await record(`the ${label} in the list query`, 'GET', `/v1/agents?secret_value=${value}`), 422);
      expectStatus(await record(`the ${label} as the cursor`, 'GET', `/v1/agents?after=${value}`), 400);
      await record(`the ${label} in the get query`, 'GET', `/v1/agents/${agentId}?secret_value=${value}`);
      await record(`the ${label} in the reply query`, 'POST', `/v1/agents/${agentId}/replies?secret_value=${value}`, {
        ...HI,
        stream: false,
      });
      expectStatus(
        await record(
          `the ${label} in request headers of a reply, unknown agent`,
          'POST',
          '/v1/agents/agt_00000000000000000000000000/replies',
          HI,
          asHeader,
        ),
        404,
      );
    }

    // DELETE takes the secrets the agent owns with it.
    const doomed = await record(
      'create to delete',
      'POST',
      '/v1/agents',
      agentBody([entry(base('ok'), { secret_value: canary }, { api_key: upstreamKey })]),
    );
    expectStatus(doomed, 201);
    expectStatus(await record('delete', 'DELETE', `/v1/agents/${(JSON.parse(doomed.body) as Agent).id}`), 204);

    // Nothing of that changed the agent: the rotated secret, still sent, and still only to its origin.
    const after = await record('get afterwards', 'GET', `/v1/agents/${agentId}`);
    expectStatus(after, 200);
    expect((JSON.parse(after.body) as Agent).llm.map((e) => e.headers)).toEqual([
      [PLAIN_HEADER, { name: SECRET_HEADER, value_hint: hintOf(rotatedCanary) }],
      [PLAIN_HEADER],
    ]);

    // The operator CLI at the most verbose level opens every secret over the same storage.
    const result = await runCli(['keys', 'verify', '--json'], { ...storage.env, LOG_LEVEL: 'trace' });
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: expect.any(String) });
    cliRuns.push({ label: 'cli keys verify --json', result });
    expect(JSON.parse(result.stdout)).toEqual({ checked: 2, failed: [] });

    // The last request, whose log line the next test waits for: a plain one.
    expectStatus(await record('list last', 'GET', '/v1/agents'), 200);
  });

  it('puts no piece of either canary in any response body or header', () => {
    expect(exchanges.length).toBeGreaterThan(100);
    const leaks: string[] = [];
    for (const e of exchanges) {
      for (const [name, value] of canaries) {
        leaks.push(...canaryLeaks(e.body, value, `${name} in the body of "${e.label}" (${e.status})`));
        leaks.push(...canaryLeaks(e.headers, value, `${name} in the headers of "${e.label}" (${e.status})`));
      }
    }
    expect(leaks).toEqual([]);
  });

  it('puts no piece of either canary in the API log or the CLI output', async () => {
    // Let the last request's log line out before stopping (pino writes asynchronously).
    const lastId = /x-request-id: (\S+)/.exec(exchanges.at(-1)!.headers)?.[1];
    expect(lastId).toBeDefined();
    const deadline = Date.now() + 5_000;
    while (!new RegExp(`"request_id":"${lastId}"[^\\n]*"request completed"`).test(api.output()) && Date.now() < deadline) await sleep(50);
    stopped = await api.stop();
    expect(stopped.code === 0 || stopped.signal === 'SIGTERM').toBe(true);

    const log = api.output();
    // The log is not vacuous: every request was logged, the failed upstream attempts too.
    const logged = new Set([...log.matchAll(/"request_id":"([^"]+)"[^\n]*"msg":"(?:request completed|reply streamed)"/g)].map((m) => m[1]));
    const ids = exchanges.map((e) => /x-request-id: (\S+)/.exec(e.headers)?.[1]);
    expect(ids.filter((id) => id === undefined || !logged.has(id))).toEqual([]);
    expectIn(log, '"msg":"llm attempt failed"', 'API log');
    const leaks: string[] = [];
    for (const [name, value] of canaries) {
      leaks.push(...canaryLeaks(log, value, `${name} in the API log`));
      for (const run of cliRuns) {
        leaks.push(...canaryLeaks(run.result.stdout, value, `${name} in the stdout of ${run.label}`));
        leaks.push(...canaryLeaks(run.result.stderr, value, `${name} in the stderr of ${run.label}`));
      }
    }
    expect(leaks).toEqual([]);
  });

  it('puts no piece of either canary in any row of any table, while the sealed value is there and opens', async () => {
    stopped ??= await api.stop(); // the API must no longer hold the (embedded) database
    const db = await openTestDatabase(storage);
    const leaks: string[] = [];
    let credentialRows: { id: string; api_key_hint: string; owner_agent_id: string | null }[];
    let headerRows: { position: number; headers: { name: string; credential_id?: string }[] }[];
    try {
      const client = await db.client();
      const tables = (
        await client.query<{ tablename: string }>("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
      ).rows.map((r) => r.tablename);
      expect(tables).toEqual(expect.arrayContaining(['credentials', 'agents', 'agent_llm_entries', 'idempotency_keys']));
      for (const table of tables) {
        const rows = (await client.query<{ row: string }>(`SELECT t::text AS row FROM "${table.replaceAll('"', '""')}" t`)).rows;
        const dump = rows.map((r) => r.row).join('\n');
        for (const [name, value] of canaries) leaks.push(...canaryLeaks(dump, value, `${name} in table ${table}`));
      }
      credentialRows = (
        await client.query<{ id: string; api_key_hint: string; owner_agent_id: string | null }>(
          'SELECT id, api_key_hint, owner_agent_id FROM credentials ORDER BY id',
        )
      ).rows;
      headerRows = (
        await client.query<{ position: number; headers: { name: string; credential_id?: string }[] }>(
          'SELECT position, headers FROM agent_llm_entries WHERE agent_id = $1 ORDER BY position',
          [agentId],
        )
      ).rows;
    } finally {
      await db.close();
    }
    expect(leaks).toEqual([]);

    // Not vacuous: the entry holds the current secret as a credential the agent owns...
    const secretId = headerRows[0]!.headers[1]!.credential_id!;
    expect(secretId).toMatch(/^cred_/);
    expect(secretId).not.toBe(firstSecretId);
    expect(headerRows[1]!.headers).toEqual([PLAIN_HEADER]);
    expect(credentialRows.find((r) => r.id === secretId)).toEqual({
      id: secretId,
      api_key_hint: '****' + rotatedCanary.slice(-4),
      owner_agent_id: agentId,
    });
    // ...and the rotated-away one was deleted with its credential row.
    expect(credentialRows.map((r) => r.id)).not.toContain(firstSecretId);

    // The sealed secrets really are the current canary (and the entry's key), so the search looked where they live.
    const masterKeys =
      storage.env.AGENTPLANE_MASTER_KEYS ??
      (await readFile(join(storage.dataDir, 'master-keys'), 'utf8'))
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l !== '' && !l.startsWith('#'))
        .join(',');
    const opened = await openStoredSecrets(storage, masterKeys);
    expect(opened.get(secretId)).toBe(rotatedCanary);
    expect([...opened.values()].sort()).toEqual([rotatedCanary, upstreamKey].sort());
  });

  (usingPostgres ? it.skip : it)('puts no piece of either canary in any file of the embedded data folder', async () => {
    stopped ??= await api.stop();
    const files = await filesUnder(storage.dataDir);
    expect(files.length).toBeGreaterThan(0);
    const leaks: string[] = [];
    for (const file of files) {
      const text = (await readFile(file)).toString('latin1');
      for (const [name, value] of canaries) leaks.push(...canaryLeaks(text, value, `${name} in ${file.slice(storage.dataDir.length)}`));
    }
    expect(leaks).toEqual([]);
  });
});

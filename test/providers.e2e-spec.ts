import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ServerResponse } from 'node:http';
import { canaryLeaks } from './support/canary.js';
import { type Body, hintOf, ISO, send, sleep } from './support/http.js';
import { anthropicStream, azureStream } from './support/provider-fakes.js';
import type { RunningApi } from './support/processes.js';
import { openStoredSecrets } from './support/sealed-secrets.js';
import type { TestStorage } from './support/storage.js';
import { dumpTables } from './support/table-dump.js';
import { startTestApi, type TestApi } from './support/test-api.js';
import { type SeenRequest, startTlsUpstream, type TlsUpstream, UPSTREAM_ENV } from './support/tls-upstream.js';

/**
 * Providers over HTTP, black box: CRUD with ETags and pages, agents that use a provider by id (its
 * endpoint, key, secret headers and model map, read at every reply), provider_in_use, tenant
 * isolation, and canaries: no piece of a provider's key or secret header in any response, log
 * line or row, while the sealed values are stored and sent upstream.
 */

// Canaries: 64 characters each, which no hint or id can hold 8 of by chance.
const KEY = randomBytes(48).toString('base64url');
const SECRET = randomBytes(48).toString('base64url');
const ROTATED_KEY = randomBytes(48).toString('base64url');
const CANARIES: [string, string][] = [
  ['provider key', KEY],
  ['secret header', SECRET],
  ['rotated key', ROTATED_KEY],
];

interface Exchange {
  readonly label: string;
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
}

type Json = Record<string, unknown>;

function answer(request: SeenRequest, res: ServerResponse): void {
  const body = JSON.parse(request.body) as { model: string };
  const segment = request.url.split('/')[1];
  if (segment === 'anthropic')
    return void res.writeHead(200, { 'content-type': 'text/event-stream' }).end(anthropicStream(body.model, { text: ['Hi'] }));
  if (segment === 'chat')
    return void res.writeHead(200, { 'content-type': 'text/event-stream' }).end(azureStream(body.model, { text: ['Hi'] }));
  res.writeHead(404).end();
}

describe('providers over HTTP', () => {
  let test: TestApi;
  let api: RunningApi;
  let storage: TestStorage;
  let upstream: TlsUpstream;
  let key: string;
  let otherKey: string;
  const exchanges: Exchange[] = [];
  let providerId: string;
  let agentId: string;

  beforeAll(async () => {
    upstream = await startTlsUpstream(answer);
    test = await startTestApi(['providers', 'providers-other'], { ...UPSTREAM_ENV, LOG_LEVEL: 'trace' });
    ({ api, storage } = test);
    key = test.keys.providers!;
    otherKey = test.keys['providers-other']!;
  });

  afterAll(async () => {
    await test?.dispose();
    await upstream?.close();
  });

  const base = (segment: string) => `https://127.0.0.1:${upstream.port}/${segment}/v1`;

  /** Sends a request as the organization (or `as`), keeping every byte that came back for the leak search. */
  async function call(
    label: string,
    method: string,
    path: string,
    body?: Body,
    options: { as?: string; headers?: Record<string, string> } = {},
  ) {
    const res = await send(api.url, method, path, options.as ?? key, body, options.headers);
    const exchange = { label, status: res.status, headers: res.headers, text: await res.text() };
    exchanges.push(exchange);
    expect(exchange.status).not.toBe(500);
    return { ...exchange, json: (exchange.text === '' ? {} : JSON.parse(exchange.text)) as Json };
  }

  async function expectCall(
    label: string,
    status: number,
    method: string,
    path: string,
    body?: Body,
    options?: { as?: string; headers?: Record<string, string> },
  ) {
    const result = await call(label, method, path, body, options);
    expect({ label, status: result.status }).toEqual({ label, status });
    return result;
  }

  const codesOf = (json: Json) => [json.code, ...((json.errors as { code: string }[] | undefined) ?? []).map((e) => e.code)];

  async function reply(label: string) {
    const before = upstream.requests.length;
    const res = await expectCall(label, 200, 'POST', `/v1/agents/${agentId}/replies`, {
      messages: [{ role: 'user', content: 'Hello' }],
      stream: false,
    });
    return { reply: res.json, seen: upstream.requests.slice(before) };
  }

  const anthropicProvider = () => ({
    name: 'Claude via gateway',
    api: 'anthropic',
    base_url: base('anthropic'),
    api_key: KEY,
    headers: [
      { name: 'X-Gateway-Key', secret_value: SECRET },
      { name: 'X-Team', value: 'voice' },
    ],
    model_map: { 'claude-sonnet-4-6': 'claude-v2' },
  });

  it('creates a provider: 201, Location, ETag, its key and secret header only as hints', async () => {
    const created = await expectCall('create', 201, 'POST', '/v1/providers', anthropicProvider());
    providerId = created.json.id as string;
    expect(created.json).toEqual({
      id: expect.stringMatching(/^prv_[0-9a-z]{26}$/),
      object: 'provider',
      name: 'Claude via gateway',
      api: 'anthropic',
      base_url: base('anthropic'),
      auth: 'x_api_key',
      api_key_hint: hintOf(KEY),
      headers: [
        { name: 'X-Gateway-Key', value_hint: hintOf(SECRET) },
        { name: 'X-Team', value: 'voice' },
      ],
      model_map: { 'claude-sonnet-4-6': 'claude-v2' },
      created_at: expect.stringMatching(ISO),
      updated_at: expect.stringMatching(ISO),
    });
    expect(created.headers.get('location')).toBe(`/v1/providers/${providerId}`);
    const read = await expectCall('get', 200, 'GET', `/v1/providers/${providerId}`);
    expect(read.json).toEqual(created.json);
    expect(read.headers.get('etag')).toBe(created.headers.get('etag'));
    // Its keys are the provider's own: not among the organization's credentials.
    expect((await expectCall('list credentials', 200, 'GET', '/v1/credentials')).json.data).toEqual([]);
  });

  it('lists providers newest first, in cursor pages, and only the organization’s', async () => {
    const second = await expectCall('create second', 201, 'POST', '/v1/providers', {
      name: 'Local vLLM',
      base_url: base('chat'),
      auth: 'none',
    });
    expect(second.json).toMatchObject({ api: 'chat_completions', auth: 'none', headers: [], model_map: {} });
    expect(second.json).not.toHaveProperty('api_key_hint');
    const first = await expectCall('page 1', 200, 'GET', '/v1/providers?limit=1');
    expect(first.json).toMatchObject({ data: [{ id: second.json.id }], has_more: true });
    const next = await expectCall('page 2', 200, 'GET', `/v1/providers?limit=1&after=${first.json.next_cursor as string}`);
    expect(next.json).toMatchObject({ data: [{ id: providerId }], has_more: false, next_cursor: null });
    expect((await expectCall('other org list', 200, 'GET', '/v1/providers', undefined, { as: otherKey })).json.data).toEqual([]);
    await expectCall('delete second', 204, 'DELETE', `/v1/providers/${second.json.id as string}`);
  });

  it('replaces and patches under If-Match, keeping the key and a secret header sent by name for the same origin', async () => {
    const etag = (await expectCall('get for etag', 200, 'GET', `/v1/providers/${providerId}`)).headers.get('etag')!;
    const replacement = { ...anthropicProvider(), name: 'Claude (renamed)', api_key: undefined, headers: [{ name: 'x-gateway-key' }] };
    const stale = await expectCall('stale put', 412, 'PUT', `/v1/providers/${providerId}`, replacement, {
      headers: { 'if-match': '"stale"' },
    });
    expect(stale.json.code).toBe('precondition_failed');
    const replaced = await expectCall('put', 200, 'PUT', `/v1/providers/${providerId}`, replacement, { headers: { 'if-match': etag } });
    expect(replaced.json).toMatchObject({
      name: 'Claude (renamed)',
      api_key_hint: hintOf(KEY),
      headers: [{ name: 'x-gateway-key', value_hint: hintOf(SECRET) }],
    });
    expect(replaced.headers.get('etag')).not.toBe(etag);

    const patched = await expectCall(
      'patch',
      200,
      'PATCH',
      `/v1/providers/${providerId}`,
      { model_map: { 'claude-haiku-4-5': 'claude-h' }, headers: [{ name: 'x-gateway-key' }, { name: 'X-Team', value: 'voice' }] },
      { headers: { 'content-type': 'application/merge-patch+json' } },
    );
    expect(patched.json).toMatchObject({
      name: 'Claude (renamed)',
      api_key_hint: hintOf(KEY),
      model_map: { 'claude-sonnet-4-6': 'claude-v2', 'claude-haiku-4-5': 'claude-h' },
      headers: [
        { name: 'x-gateway-key', value_hint: hintOf(SECRET) },
        { name: 'X-Team', value: 'voice' },
      ],
    });

    // Another origin keeps neither the key nor the secret header.
    const moved = await expectCall('put to another origin without a key', 422, 'PUT', `/v1/providers/${providerId}`, {
      ...replacement,
      base_url: `https://127.0.0.1:${upstream.port + 1}/anthropic/v1`,
    });
    expect(codesOf(moved.json)).toEqual(['api_key_required', 'api_key_required']);
  });

  it('refuses what a provider cannot be, naming each field', async () => {
    const invalid = await expectCall('invalid', 422, 'POST', '/v1/providers', {
      name: ' ',
      api: 'google',
      api_key: KEY,
      model_map: { a: '' },
      extra_body: { contents: [] },
      headers: [{ name: 'x-goog-api-key', secret_value: SECRET }],
    });
    expect((invalid.json.errors as { path: string; code: string }[]).map(({ path, code }) => ({ path, code }))).toEqual([
      { path: 'name', code: 'blank' },
      { path: 'model_map', code: 'invalid_model_map' },
    ]);
    const rules = await expectCall('rules', 422, 'POST', '/v1/providers', {
      name: 'g',
      api: 'google',
      base_url: base('g'),
      api_key: KEY,
      extra_body: { contents: [] },
      headers: [{ name: 'x-goog-api-key', secret_value: SECRET }],
    });
    expect((rules.json.errors as { path: string; code: string }[]).map(({ path, code }) => ({ path, code }))).toEqual([
      { path: 'extra_body.contents', code: 'reserved_field' },
      { path: 'headers[0].name', code: 'reserved_header' },
    ]);
    const tooMany = Object.fromEntries(Array.from({ length: 201 }, (_, i) => [`m${i}`, 'x']));
    expect(
      codesOf(
        (
          await expectCall('model map too large', 422, 'POST', '/v1/providers', {
            name: 'big',
            base_url: base('chat'),
            auth: 'none',
            model_map: tooMany,
          })
        ).json,
      ),
    ).toContain('invalid_model_map');
    expect(
      codesOf(
        (await expectCall('private host', 422, 'POST', '/v1/providers', { name: 'p', base_url: 'https://10.0.0.1/v1', api_key: KEY })).json,
      ),
    ).toContain('private_host');
  });

  it('serves an agent entry {provider_id, model} with the provider’s endpoint, key, headers and model map', async () => {
    const created = await expectCall('agent using the provider', 201, 'POST', '/v1/agents', {
      name: 'Front desk',
      instructions: 'Be brief.',
      llm: [{ provider_id: providerId, model: 'claude-sonnet-4-6', timeouts: { first_token_ms: 5000 } }],
    });
    agentId = created.json.id as string;
    expect(created.json.llm).toEqual([{ provider_id: providerId, model: 'claude-sonnet-4-6', timeouts: { first_token_ms: 5000 } }]);

    const { reply: answered, seen } = await reply('reply through the provider');
    expect(answered).toMatchObject({ text: 'Hi', entry_index: 0, model: 'claude-v2' });
    expect(seen).toHaveLength(1);
    expect(seen[0]!.url).toBe('/anthropic/v1/messages');
    expect(seen[0]!.headers).toMatchObject({
      'x-api-key': KEY,
      'x-gateway-key': SECRET,
      'x-team': 'voice',
      'anthropic-version': '2023-06-01',
    });
    expect(JSON.parse(seen[0]!.body)).toMatchObject({ model: 'claude-v2', system: 'Be brief.' });
  });

  it('moves every agent that uses a provider by a provider update alone, at the next reply', async () => {
    const etagBefore = (await expectCall('agent etag', 200, 'GET', `/v1/agents/${agentId}`)).headers.get('etag');
    await expectCall('move the provider to chat completions with a new key', 200, 'PUT', `/v1/providers/${providerId}`, {
      name: 'Gateway',
      api: 'chat_completions',
      base_url: base('chat'),
      api_key: ROTATED_KEY,
      model_map: { 'claude-sonnet-4-6': 'gpt-4o-mini' },
    });
    const { reply: answered, seen } = await reply('reply after the move');
    expect(answered).toMatchObject({ text: 'Hi', model: 'gpt-4o-mini' });
    expect(seen.map((r) => r.url)).toEqual(['/chat/v1/chat/completions']);
    expect(seen[0]!.headers.authorization).toBe(`Bearer ${ROTATED_KEY}`);
    expect(seen[0]!.headers).not.toHaveProperty('x-gateway-key');
    expect(JSON.parse(seen[0]!.body)).toMatchObject({ model: 'gpt-4o-mini' });
    // The agent itself did not change.
    expect((await expectCall('agent etag after', 200, 'GET', `/v1/agents/${agentId}`)).headers.get('etag')).toBe(etagBefore);

    // A model the map does not name is sent as the entry names it.
    await expectCall(
      'unmapped model',
      200,
      'PATCH',
      `/v1/agents/${agentId}`,
      { llm: [{ provider_id: providerId, model: 'llama-3.1-8b' }] },
      { headers: { 'content-type': 'application/merge-patch+json' } },
    );
    const unmapped = await reply('reply with an unmapped model');
    expect(JSON.parse(unmapped.seen[0]!.body)).toMatchObject({ model: 'llama-3.1-8b' });
  });

  it('keeps organizations apart: another org’s provider is a 404 on its routes and not_found on an agent', async () => {
    for (const [method, body] of [
      ['GET'],
      ['PUT', { name: 'x', base_url: base('chat'), auth: 'none' }],
      ['PATCH', { name: 'x' }],
      ['DELETE'],
    ] as const) {
      const res = await expectCall(`other org ${method}`, 404, method, `/v1/providers/${providerId}`, body, { as: otherKey });
      expect(res.json.code).toBe('not_found');
    }
    const foreign = await expectCall(
      'agent with another org’s provider',
      422,
      'POST',
      '/v1/agents',
      { name: 'x', llm: [{ provider_id: providerId, model: 'm' }] },
      { as: otherKey },
    );
    expect(foreign.json.errors).toEqual([{ path: 'llm[0].provider_id', code: 'not_found', message: expect.any(String) }]);
    expect((await expectCall('still there', 200, 'GET', `/v1/providers/${providerId}`)).json.name).toBe('Gateway');
  });

  it('refuses endpoint fields next to provider_id, naming each', async () => {
    const res = await expectCall('mixed entry', 422, 'POST', '/v1/agents', {
      name: 'x',
      llm: [{ provider_id: providerId, model: 'm', base_url: base('chat'), api_key: KEY, headers: [] }],
    });
    expect(res.json.errors).toEqual([
      { path: 'llm[0].base_url', code: 'not_allowed_with_provider', message: expect.any(String) },
      { path: 'llm[0].api_key', code: 'not_allowed_with_provider', message: expect.any(String) },
      { path: 'llm[0].headers', code: 'not_allowed_with_provider', message: expect.any(String) },
    ]);
  });

  it('refuses to delete a provider in use (409 provider_in_use); with force, the entries go and the agent’s version and ETag change', async () => {
    const before = await expectCall('agent before', 200, 'GET', `/v1/agents/${agentId}`);
    const inUse = await expectCall('delete in use', 409, 'DELETE', `/v1/providers/${providerId}`);
    expect(inUse.json).toMatchObject({ code: 'provider_in_use', status: 409 });
    expect((await expectCall('agent unchanged', 200, 'GET', `/v1/agents/${agentId}`)).headers.get('etag')).toBe(before.headers.get('etag'));
    await expectCall('stale if-match', 412, 'DELETE', `/v1/providers/${providerId}?force=true`, undefined, {
      headers: { 'if-match': '"stale"' },
    });
    await expectCall('force', 204, 'DELETE', `/v1/providers/${providerId}?force=true`);
    const after = await expectCall('agent after', 200, 'GET', `/v1/agents/${agentId}`);
    expect(after.json.llm).toEqual([]);
    expect(after.headers.get('etag')).not.toBe(before.headers.get('etag'));
    expect(Date.parse(after.json.updated_at as string)).toBeGreaterThan(Date.parse(before.json.updated_at as string));
    await expectCall('gone', 404, 'GET', `/v1/providers/${providerId}`);
  });

  it('never deletes a provider’s org credential from under it, force or not', async () => {
    const origin = `https://127.0.0.1:${upstream.port}`;
    const credential = await expectCall('org credential', 201, 'POST', '/v1/credentials', {
      name: 'shared',
      api_key: 'sk-shared-0123456789abcdefgh',
      allowed_origins: [origin],
    });
    const provider = await expectCall('provider on it', 201, 'POST', '/v1/providers', {
      name: 'on a credential',
      base_url: base('chat'),
      credential_id: credential.json.id,
    });
    expect(provider.json).toMatchObject({ credential_id: credential.json.id, api_key_hint: '****efgh' });
    for (const path of [`/v1/credentials/${credential.json.id as string}`, `/v1/credentials/${credential.json.id as string}?force=true`]) {
      const refused = await expectCall(`delete ${path}`, 409, 'DELETE', path);
      expect(refused.json.code).toBe('credential_in_use');
    }
    await expectCall('provider still there', 200, 'GET', `/v1/providers/${provider.json.id as string}`);
    await expectCall('delete the provider', 204, 'DELETE', `/v1/providers/${provider.json.id as string}`);
    await expectCall('then the credential', 204, 'DELETE', `/v1/credentials/${credential.json.id as string}`);
  });

  it('puts no piece of a provider key or secret header value in any response or log line', async () => {
    // A provider kept to the end, so that the row search below has sealed values to look past.
    await expectCall('last provider', 201, 'POST', '/v1/providers', { ...anthropicProvider(), name: 'Kept' });
    expect(exchanges.length).toBeGreaterThan(30);
    const leaks: string[] = [];
    for (const e of exchanges) {
      for (const [name, value] of CANARIES) {
        leaks.push(...canaryLeaks(e.text, value, `${name} in the body of "${e.label}"`));
        leaks.push(...canaryLeaks([...e.headers].join('\n'), value, `${name} in the headers of "${e.label}"`));
      }
    }
    await sleep(200); // pino writes asynchronously
    await api.stop();
    const log = api.output();
    expect(log).toContain('"msg":"request completed"');
    for (const [name, value] of CANARIES) leaks.push(...canaryLeaks(log, value, `${name} in the API log`));
    expect(leaks).toEqual([]);
  });

  it('puts no piece of them in any row, while the sealed values are stored and open', async () => {
    const dumps = await dumpTables(storage);
    expect([...dumps.keys()]).toEqual(expect.arrayContaining(['providers', 'credentials', 'agent_llm_entries']));
    const leaks: string[] = [];
    for (const [table, dump] of dumps)
      for (const [name, value] of CANARIES) leaks.push(...canaryLeaks(dump, value, `${name} in table ${table}`));
    expect(leaks).toEqual([]);
    const masterKeys =
      storage.env.AGENTPLANE_MASTER_KEYS ??
      (await readFile(join(storage.dataDir, 'master-keys'), 'utf8'))
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l !== '' && !l.startsWith('#'))
        .join(',');
    // The kept provider's key and secret header, and nothing else: force-deleted providers took theirs.
    expect([...(await openStoredSecrets(storage, masterKeys)).values()].sort()).toEqual([KEY, SECRET].sort());
  });
});

import type { ServerResponse } from 'node:http';
import type { Client } from '../clients/typescript/client/index.js';
import { createAgent, createCredential, createProvider, testAgent, testLlmEntry } from '../clients/typescript/index.js';
import { expectClientInvalid, expectClientProblem, expectStatus, untyped } from './support/api-client.js';
import { canaryLeaks } from './support/canary.js';
import { dumpTables } from './support/table-dump.js';
import { startTestApi, type TestApi } from './support/test-api.js';
import { closedPort, startTlsUpstream, type TlsUpstream, UPSTREAM_ENV } from './support/tls-upstream.js';

/**
 * The connection-test routes over HTTP, through the generated client, against a TLS fake on
 * loopback. Each step failing for a real cause is covered in connection-test-steps.e2e-spec; here:
 * the contract, saved agents and providers, the rate limit, and that an inline key is used once
 * and found nowhere afterwards.
 */

const INLINE_KEY = 'sk-inline-canary-7f3a9c2e5b1d8f4a6c0e2b9d';
const STORED_KEY = 'sk-stored-key-for-agents-0123456789abcd';

const chunk = (delta: Record<string, unknown>, finish: string | null = null) =>
  `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', model: 'served-model', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;

function answer(url: string, headers: Record<string, string | string[] | undefined>, res: ServerResponse): void {
  const scenario = url.split('/')[1];
  if (scenario === 'keyed' && headers.authorization !== `Bearer ${INLINE_KEY}` && headers.authorization !== `Bearer ${STORED_KEY}`) {
    res.writeHead(401, { 'content-type': 'application/json' }).end(`{"error":{"message":"bad key ${String(headers.authorization)}"}}`);
    return;
  }
  if (scenario === 'missing') {
    res.writeHead(404).end();
    return;
  }
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  res.end(chunk({ role: 'assistant', content: '' }) + chunk({ content: 'OK' }) + chunk({}, 'stop') + 'data: [DONE]\n\n');
}

const STEPS = ['policy', 'dns', 'connect', 'tls', 'request', 'stream', 'first_token'];

describe('connection tests over HTTP', () => {
  let test: TestApi;
  let upstream: TlsUpstream;
  let client: Client;
  let refusedPort: number;

  beforeAll(async () => {
    upstream = await startTlsUpstream((request, res) => answer(request.url, request.headers, res));
    refusedPort = await closedPort();
    test = await startTestApi(['tests', 'tests-other', 'tests-limited'], { ...UPSTREAM_ENV, LOG_LEVEL: 'trace' });
    client = test.client('tests');
  });

  afterAll(async () => {
    await test?.dispose();
    await upstream?.close();
  });

  const base = (scenario: string, port = upstream.port) => `https://127.0.0.1:${port}/${scenario}/v1`;

  it('tests an unsaved entry with an inline key: every step passes, and the key reached the upstream', async () => {
    const before = upstream.requests.length;
    const report = expectStatus(
      await testLlmEntry({ client, body: { base_url: base('keyed'), model: 'fake-model', api_key: INLINE_KEY } }),
      200,
    );
    expect(report).toMatchObject({
      object: 'connection_test',
      ok: true,
      code: null,
      message: null,
      model: 'fake-model',
      reported_model: 'served-model',
    });
    expect(report.steps.map((s) => [s.name, s.ok])).toEqual(STEPS.map((name) => [name, true]));
    expect(report.steps.find((s) => s.name === 'request')).toMatchObject({ http_status: 200 });
    expect(upstream.requests.slice(before).map((r) => r.headers.authorization)).toEqual([`Bearer ${INLINE_KEY}`]);
  });

  it('reports a wrong key as auth_rejected, never with the upstream’s body', async () => {
    const report = expectStatus(
      await testLlmEntry({ client, body: { base_url: base('keyed'), model: 'fake-model', api_key: `${INLINE_KEY}-wrong` } }),
      200,
    );
    expect(report).toMatchObject({ ok: false, code: 'auth_rejected', message: expect.stringContaining('401') });
    expect(report.steps.at(-1)).toEqual({
      name: 'request',
      ok: false,
      duration_ms: expect.any(Number),
      code: 'auth_rejected',
      http_status: 401,
    });
    expect(JSON.stringify(report)).not.toContain('bad key');
  });

  it('tests each entry of a saved agent with its stored key, in order, each stopping at its own failing step', async () => {
    const agent = expectStatus(
      await createAgent({
        client,
        body: {
          name: 'tested',
          llm: [
            { base_url: base('keyed'), model: 'fake-model', api_key: STORED_KEY },
            { base_url: base('missing'), model: 'no-such-model', api_key: STORED_KEY },
            { base_url: base('keyed', refusedPort), model: 'fake-model', api_key: STORED_KEY },
          ],
        },
      }),
      201,
    );
    const result = expectStatus(await testAgent({ client, path: { id: agent.id } }), 200);
    expect(result).toMatchObject({ object: 'agent_connection_test', agent_id: agent.id, ok: false });
    expect(result.entries.map((e) => [e.entry_index, e.ok, e.code, e.steps.at(-1)!.name])).toEqual([
      [0, true, null, 'first_token'],
      [1, false, 'model_or_path_not_found', 'request'],
      [2, false, 'upstream_connection_refused', 'connect'],
    ]);
  });

  it('tests an entry that uses a provider, with the provider’s key and model map', async () => {
    const provider = expectStatus(
      await createProvider({
        client,
        body: { name: 'fake', base_url: base('keyed'), api_key: STORED_KEY, model_map: { fast: 'fake-model-mapped' } },
      }),
      201,
    );
    const before = upstream.requests.length;
    const report = expectStatus(await testLlmEntry({ client, body: { provider_id: provider.id, model: 'fast' } }), 200);
    expect(report).toMatchObject({ ok: true, model: 'fake-model-mapped' });
    expect(JSON.parse(upstream.requests[before]!.body)).toMatchObject({ model: 'fake-model-mapped' });
  });

  it('uses an org credential by id, refusing it for an origin it does not allow', async () => {
    const credential = expectStatus(
      await createCredential({ client, body: { name: 'org key', api_key: STORED_KEY, allowed_origins: [new URL(base('keyed')).origin] } }),
      201,
    );
    const ok = expectStatus(
      await testLlmEntry({ client, body: { base_url: base('keyed'), model: 'm', credential_id: credential.id } }),
      200,
    );
    expect(ok.ok).toBe(true);
    const elsewhere = `https://127.0.0.1:${refusedPort}/keyed/v1`;
    const refused = expectStatus(
      await testLlmEntry({ client, body: { base_url: elsewhere, model: 'm', credential_id: credential.id } }),
      200,
    );
    expect(refused.steps).toEqual([{ name: 'policy', ok: false, duration_ms: expect.any(Number), code: 'egress_refused' }]);
  });

  it('refuses an invalid entry with 422 naming the field, and an unknown agent or provider', async () => {
    const missingModel = expectClientInvalid(
      await testLlmEntry({ client, body: untyped({ base_url: base('keyed'), api_key: INLINE_KEY }) }),
    );
    expect(missingModel.map((e) => e.path)).toEqual(['model']);
    const keyless = expectClientProblem(
      await testLlmEntry({ client, body: { base_url: base('keyed'), model: 'm' } }),
      422,
      'api_key_required',
    );
    expect(keyless.errors?.map((e) => e.path)).toEqual(['api_key']);
    const headerWithoutValue = expectClientInvalid(
      await testLlmEntry({ client, body: { base_url: base('keyed'), model: 'm', api_key: INLINE_KEY, headers: [{ name: 'x-team' }] } }),
    );
    expect(headerWithoutValue).toEqual([expect.objectContaining({ path: 'headers[0].secret_value', code: 'secret_value_required' })]);
    const mixed = expectClientInvalid(
      await testLlmEntry({ client, body: { provider_id: 'prv_nope', model: 'm', base_url: base('keyed') } }),
    );
    expect(mixed).toEqual([expect.objectContaining({ path: 'base_url', code: 'not_allowed_with_provider' })]);
    const unknownProvider = expectClientInvalid(await testLlmEntry({ client, body: { provider_id: 'prv_nope', model: 'm' } }));
    expect(unknownProvider).toEqual([expect.objectContaining({ path: 'provider_id', code: 'not_found' })]);
    expectClientProblem(await testAgent({ client, path: { id: 'agt_nope' } }), 404, 'not_found');
    // Another organization's agent does not exist for this one.
    const theirs = expectStatus(await createAgent({ client: test.client('tests-other'), body: { name: 'theirs' } }), 201);
    expectClientProblem(await testAgent({ client, path: { id: theirs.id } }), 404, 'not_found');
  });

  it('allows 10 entries a minute per organization, then answers 429 rate_limited with Retry-After', async () => {
    const limited = test.client('tests-limited');
    const body = { base_url: base('keyed'), model: 'fake-model', api_key: INLINE_KEY };
    for (let i = 0; i < 10; i++) expectStatus(await testLlmEntry({ client: limited, body }), 200);
    const refused = await testLlmEntry({ client: limited, body });
    const problem = expectClientProblem(refused, 429, 'rate_limited');
    expect(problem.detail).toMatch(/try again in \d+ s/);
    expect(Number(refused.response?.headers.get('retry-after'))).toBeGreaterThan(0);
    // Another organization is counted apart.
    expectStatus(await testLlmEntry({ client: test.client('tests-other'), body }), 200);
  });

  it('leaves the inline key in no log line and no row', async () => {
    await test.api.stop();
    const leaks = canaryLeaks(test.api.output(), INLINE_KEY, 'the API log');
    for (const [table, rows] of await dumpTables(test.storage)) leaks.push(...canaryLeaks(rows, INLINE_KEY, `table ${table}`));
    expect(leaks).toEqual([]);
    expect(test.api.output()).toContain('llm connection tested');
  });
});

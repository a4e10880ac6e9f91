import type { ServerResponse } from 'node:http';
import { send, sleep } from './support/http.js';
import { createApiKey, type RunningApi, runCli, startApi } from './support/processes.js';
import { azureStream } from './support/provider-fakes.js';
import { createTestStorage, type TestStorage, usingPostgres } from './support/storage.js';
import { type SeenRequest, startTlsUpstream, type TlsUpstream, UPSTREAM_ENV } from './support/tls-upstream.js';

/**
 * Two API instances on one PostgreSQL, as deployed behind a load balancer. Each may serve a reply
 * or a read from what it read for an earlier one (the runnable agent, the agent and its pages, the
 * API key), so this proves the bounds: a change is used and shown by the very next request on the
 * instance that made it, and by every instance from one second after it was made; a revoked API
 * key stops working everywhere within one second. Embedded storage serves one instance, so this runs on PostgreSQL only.
 */
const STALE_BOUND_MS = 1_000;

function answer(request: SeenRequest, res: ServerResponse): void {
  const segment = request.url.split('/')[1] ?? '';
  res.writeHead(200, { 'content-type': 'text/event-stream' }).end(azureStream('m', { text: [segment] }));
}

(usingPostgres ? describe : describe.skip)('two instances on one database', () => {
  let storage: TestStorage;
  let upstream: TlsUpstream;
  let a: RunningApi;
  let b: RunningApi;
  let key: string;

  beforeAll(async () => {
    storage = await createTestStorage();
    upstream = await startTlsUpstream(answer);
    [a, b] = await Promise.all([startApi({ ...storage.env, ...UPSTREAM_ENV }), startApi({ ...storage.env, ...UPSTREAM_ENV })]);
    key = (await createApiKey('two-instances', storage.env)).api_key;
  });

  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    await upstream?.close();
    await storage?.dispose();
  });

  const base = (segment: string) => `https://127.0.0.1:${upstream.port}/${segment}/v1`;

  async function json(api: RunningApi, method: string, path: string, body?: Record<string, unknown>, status = 200) {
    const headers: Record<string, string> = method === 'PATCH' ? { 'content-type': 'application/merge-patch+json' } : {};
    const res = await send(api.url, method, path, key, body, headers);
    const text = await res.text();
    expect({ path, status: res.status, text: res.status === status ? '' : text }).toEqual({ path, status, text: '' });
    return text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
  }

  /** Which upstream segment answered a reply of `agentId` through `api`. */
  async function answeredBy(api: RunningApi, agentId: string): Promise<string> {
    const reply = await json(api, 'POST', `/v1/agents/${agentId}/replies`, { messages: [{ role: 'user', content: 'Hi' }], stream: false });
    return reply.text as string;
  }

  it('uses an agent change at once where it was made, and everywhere one second later', async () => {
    const agent = await json(a, 'POST', '/v1/agents', { name: 'twice', llm: [{ base_url: base('one'), model: 'm', auth: 'none' }] }, 201);
    const id = agent.id as string;
    // Both instances have now read the agent for a reply.
    expect([await answeredBy(a, id), await answeredBy(b, id)]).toEqual(['one', 'one']);

    await json(a, 'PATCH', `/v1/agents/${id}`, { llm: [{ base_url: base('two'), model: 'm', auth: 'none' }] });
    const changedAt = Date.now();
    expect(await answeredBy(a, id)).toBe('two');
    await sleep(Math.max(0, changedAt + STALE_BOUND_MS - Date.now()));
    expect(await answeredBy(b, id)).toBe('two');
  });

  it('shows an agent change in reads (one agent, a page) at once where it was made, and everywhere one second later', async () => {
    const agent = await json(a, 'POST', '/v1/agents', { name: 'before', llm: [{ base_url: base('six'), model: 'm', auth: 'none' }] }, 201);
    const id = agent.id as string;
    const seen = async (api: RunningApi) => {
      const one = await json(api, 'GET', `/v1/agents/${id}`);
      const page = (await json(api, 'GET', '/v1/agents?limit=100')).data as { id: string; name: string }[];
      return [one.name, page.find((x) => x.id === id)?.name ?? 'absent'];
    };
    // Both instances have now read it, one by one and in a page.
    expect([await seen(a), await seen(b)]).toEqual([
      ['before', 'before'],
      ['before', 'before'],
    ]);

    await json(b, 'PATCH', `/v1/agents/${id}`, { name: 'after' });
    const changedAt = Date.now();
    expect(await seen(b)).toEqual(['after', 'after']);
    await sleep(Math.max(0, changedAt + STALE_BOUND_MS - Date.now()));
    expect(await seen(a)).toEqual(['after', 'after']);

    await json(a, 'DELETE', `/v1/agents/${id}`, undefined, 204);
    const deletedAt = Date.now();
    expect((await send(a.url, 'GET', `/v1/agents/${id}`, key)).status).toBe(404);
    await sleep(Math.max(0, deletedAt + STALE_BOUND_MS - Date.now()));
    expect((await send(b.url, 'GET', `/v1/agents/${id}`, key)).status).toBe(404);
    expect(((await json(b, 'GET', '/v1/agents?limit=100')).data as { id: string }[]).map((x) => x.id)).not.toContain(id);
  });

  it('uses a provider change (the one that makes the agent’s endpoint) the same way', async () => {
    const provider = await json(a, 'POST', '/v1/providers', { name: 'p', base_url: base('three'), auth: 'none' }, 201);
    const agent = await json(b, 'POST', '/v1/agents', { name: 'via provider', llm: [{ provider_id: provider.id, model: 'm' }] }, 201);
    const id = agent.id as string;
    expect([await answeredBy(a, id), await answeredBy(b, id)]).toEqual(['three', 'three']);

    await json(b, 'PATCH', `/v1/providers/${provider.id as string}`, { base_url: base('four') });
    const changedAt = Date.now();
    expect(await answeredBy(b, id)).toBe('four');
    await sleep(Math.max(0, changedAt + STALE_BOUND_MS - Date.now()));
    expect(await answeredBy(a, id)).toBe('four');
  });

  it('sends a rotated credential’s new key at once where it was rotated, and everywhere one second later', async () => {
    const origin = `https://127.0.0.1:${upstream.port}`;
    const credential = await json(
      a,
      'POST',
      '/v1/credentials',
      { name: 'c', api_key: 'sk-first-0123456789abcdefgh', allowed_origins: [origin] },
      201,
    );
    const agent = await json(
      a,
      'POST',
      '/v1/agents',
      { name: 'keyed', llm: [{ base_url: base('five'), model: 'm', credential_id: credential.id }] },
      201,
    );
    const id = agent.id as string;
    const sentKeys = () => upstream.requests.filter((r) => r.url.startsWith('/five/')).map((r) => r.headers.authorization);
    await answeredBy(a, id);
    await answeredBy(b, id);

    await json(a, 'PUT', `/v1/credentials/${credential.id as string}`, {
      name: 'c',
      api_key: 'sk-second-0123456789abcdefg',
      allowed_origins: [origin],
    });
    const changedAt = Date.now();
    await answeredBy(a, id);
    await sleep(Math.max(0, changedAt + STALE_BOUND_MS - Date.now()));
    await answeredBy(b, id);
    expect(sentKeys()).toEqual([
      'Bearer sk-first-0123456789abcdefgh',
      'Bearer sk-first-0123456789abcdefgh',
      'Bearer sk-second-0123456789abcdefg',
      'Bearer sk-second-0123456789abcdefg',
    ]);
  });

  it('stops accepting a revoked API key on every instance within one second', async () => {
    const issued = await createApiKey('two-instances-revoked', storage.env);
    // Both instances have just accepted it.
    for (const api of [a, b]) expect((await send(api.url, 'GET', '/v1/organization', issued.api_key)).status).toBe(200);
    const listed = JSON.parse((await runCli(['api-keys', 'list', '--org', 'two-instances-revoked', '--json'], storage.env)).stdout) as {
      data: { id: string }[];
    };
    expect((await runCli(['api-keys', 'revoke', listed.data[0]!.id], storage.env)).code).toBe(0);
    const revokedAt = Date.now();
    await sleep(Math.max(0, revokedAt + STALE_BOUND_MS - Date.now()));
    for (const api of [a, b]) expect((await send(api.url, 'GET', '/v1/organization', issued.api_key)).status).toBe(401);
  });
});

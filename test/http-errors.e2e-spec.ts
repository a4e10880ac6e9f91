import type { RunningApi } from './support/processes.js';
import { startTestApi, type TestApi } from './support/test-api.js';

describe('problem+json for every error', () => {
  // Raw requests: these are the bytes and routes no generated client sends.
  let test: TestApi;
  let api: RunningApi;
  let key: string;

  beforeAll(async () => {
    test = await startTestApi(['errors']);
    api = test.api;
    key = test.keys.errors!;
  });

  afterAll(async () => {
    await test?.dispose();
  });

  const expectProblem = async (res: Response, status: number, code: string): Promise<Record<string, unknown>> => {
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toBe('application/problem+json; charset=utf-8');
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ status, code, type: `https://agentplane.dev/problems/${code}` });
    expect(typeof body.title).toBe('string');
    expect(typeof body.detail).toBe('string');
    return body;
  };

  it('answers an unknown route with 404, with or without a key', async () => {
    await expectProblem(await fetch(`${api.url}/v1/nothing-here`, { headers: { authorization: `Bearer ${key}` } }), 404, 'not_found');
    await expectProblem(await fetch(`${api.url}/v1/nothing-here`), 404, 'not_found');
  });

  // No route accepts a body yet; Fastify parses (and limits) bodies before routing, so these
  // reach the same filter any route's would.
  it('answers an unparseable body with 400 without echoing it', async () => {
    const res = await fetch(`${api.url}/v1/organization`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: '{"api_key": "sk-live-should-not-echo"',
    });
    const body = await expectProblem(res, 400, 'bad_request');
    expect(JSON.stringify(body)).not.toContain('sk-live');
  });

  it('answers a body over 256 KB with 413', async () => {
    const res = await fetch(`${api.url}/v1/organization`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ pad: 'x'.repeat(300 * 1024) }),
    });
    await expectProblem(res, 413, 'payload_too_large');
  });

  it('refuses JSON nested deeper than 32 levels before parsing it, with 422 and a clear detail', async () => {
    const post = (body: string): Promise<Response> =>
      fetch(`${api.url}/v1/agents`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body,
      });
    const deep = (levels: number): string => `{"name":"deep","metadata":${'['.repeat(levels)}${']'.repeat(levels)}}`;
    for (const levels of [10_000, 32]) {
      const res = await post(deep(levels));
      const body = await expectProblem(res, 422, 'validation_failed');
      expect(body.detail).toMatch(/nest.*deeper than 32/);
    }
    // 31 levels inside the body object (32 in all) is parsed and reaches validation.
    const shallow = await expectProblem(await post(deep(31)), 422, 'validation_failed');
    expect(shallow.detail).not.toMatch(/deeper/);
    expect(JSON.stringify(shallow.errors)).toContain('metadata');
  });

  it('lets a fetch client read the 413 for every over-limit body, even while the upload is still arriving', async () => {
    // Past a few hundred KB the client is still writing when the 413 is ready; a server that
    // answers and closes then resets the connection under the upload (EPIPE, no 413).
    for (const size of [300 * 1024, 4 * 1024 * 1024]) {
      const body = JSON.stringify({ pad: 'x'.repeat(size) });
      const outcomes: string[] = [];
      for (let i = 0; i < 50; i++) {
        try {
          const res = await fetch(`${api.url}/v1/agents`, {
            method: 'POST',
            headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
            body,
          });
          await res.arrayBuffer();
          outcomes.push(String(res.status));
        } catch (error) {
          const cause = (error as { cause?: { code?: string } }).cause;
          outcomes.push(cause?.code ?? String(error));
        }
      }
      expect({ size, outcomes }).toEqual({ size, outcomes: Array.from({ length: 50 }, () => '413') });
    }
  });

  it('echoes a plain caller request id and replaces an unsafe one', async () => {
    const mine = await fetch(`${api.url}/healthz`, { headers: { 'x-request-id': 'trace-123' } });
    expect(mine.headers.get('x-request-id')).toBe('trace-123');
    const unsafe = await fetch(`${api.url}/healthz`, { headers: { 'x-request-id': 'a'.repeat(200) } });
    expect(unsafe.headers.get('x-request-id')).toMatch(/^req_/);
  });
});

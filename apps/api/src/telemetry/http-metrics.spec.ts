import { request as httpRequest } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import Fastify, { type FastifyInstance } from 'fastify';
import { Metrics } from '#agentplane/metrics';
import { parsePrometheusText } from '../../../../test/support/prometheus-text.js';
import { timeRequests } from './http-metrics.js';

const NAME = 'agentplane_http_request_duration_seconds';
let fastify: FastifyInstance;
let metrics: Metrics;
let base: string;
let held: () => void = () => undefined;

beforeAll(async () => {
  fastify = Fastify();
  metrics = new Metrics();
  timeRequests(fastify, metrics);
  fastify.get('/v1/agents/:id', async () => ({ ok: true }));
  fastify.post('/v1/agents/:id/replies', (_request, reply) => {
    // As the replies controller streams: hijacked, written on the raw response.
    reply.hijack();
    reply.raw.writeHead(200, { 'content-type': 'text/event-stream' });
    reply.raw.write('event: reply.delta\ndata: {}\n\n');
    setTimeout(() => reply.raw.end('event: reply.completed\ndata: {}\n\n'), 120);
  });
  fastify.get('/held', () => new Promise<void>((resolve) => (held = resolve)));
  await fastify.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(fastify.server.address() as { port: number }).port}`;
});

afterAll(() => fastify.close());

const count = async (labels: Record<string, string>) => parsePrometheusText(await metrics.registry.metrics()).sum(`${NAME}_count`, labels);

/** Resolves once `check` holds: the response's close event comes after the client has read it. */
async function eventually(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 100 && !(await check()); i++) await sleep(10);
  expect(await check()).toBe(true);
}

describe('timeRequests', () => {
  it('labels a request with its route template, never its URL', async () => {
    await (await fetch(`${base}/v1/agents/agt_one`)).text();
    await (await fetch(`${base}/v1/agents/agt_two`)).text();
    await eventually(async () => (await count({ route: '/v1/agents/:id', method: 'GET', status: '200' })) === 2);
    expect(await metrics.registry.metrics()).not.toContain('agt_');
  });

  it('labels every unknown path alike', async () => {
    for (const path of ['/nope', '/metrics', '/v1/agents/agt_x/unknown?x=1']) await (await fetch(`${base}${path}`)).text();
    await eventually(async () => (await count({ route: 'unmatched', status: '404' })) === 3);
    expect(await metrics.registry.metrics()).not.toContain('nope');
  });

  it('times a streamed (hijacked) reply once, to its end', async () => {
    const res = await fetch(`${base}/v1/agents/agt_one/replies`, { method: 'POST' });
    await res.text();
    const labels = { route: '/v1/agents/:id/replies', method: 'POST', status: '200' };
    await eventually(async () => (await count(labels)) === 1);
    const seconds = parsePrometheusText(await metrics.registry.metrics()).sum(`${NAME}_sum`, labels);
    expect(seconds).toBeGreaterThanOrEqual(0.1);
    await sleep(50);
    expect(await count(labels)).toBe(1);
  });

  it('counts a caller who left before the answer as 499, once', async () => {
    const req = httpRequest(`${base}/held`);
    req.on('error', () => undefined);
    req.end();
    await sleep(50);
    req.destroy();
    await eventually(async () => (await count({ route: '/held', status: '499' })) === 1);
    held();
    await sleep(50);
    expect(await count({ route: '/held' })).toBe(1);
  });
});

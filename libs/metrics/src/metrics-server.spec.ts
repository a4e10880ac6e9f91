import { createServer } from 'node:net';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from '@jest/globals';
import { loadConfig } from '#agentplane/config';
import { createLogger } from '#agentplane/logging';
import { parsePrometheusText } from '../../../test/support/prometheus-text.js';
import { Metrics } from './metrics.js';
import { MetricsServer } from './metrics-server.js';

const TOKEN = 'scrape-0123456789abcdef';
const running: MetricsServer[] = [];

async function start(env: Record<string, string>) {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString('utf8'));
      done();
    },
  });
  const metrics = new Metrics();
  const server = new MetricsServer(metrics, loadConfig(env, '/tmp'), createLogger({ level: 'info', destination }));
  running.push(server);
  const address = await server.listen();
  const base = address === undefined ? undefined : `http://127.0.0.1:${address.port}`;
  return { metrics, server, base, lines };
}

afterEach(async () => {
  for (const server of running.splice(0)) await server.onApplicationShutdown();
});

describe('MetricsServer', () => {
  it('does not listen without AGENTPLANE_METRICS_PORT', async () => {
    const { base } = await start({});
    expect(base).toBeUndefined();
  });

  it('serves the registry at GET /metrics, and nothing else', async () => {
    const { metrics, base } = await start({ AGENTPLANE_METRICS_PORT: '0' });
    metrics.watchLostRecords(() => 1);
    const res = await fetch(`${base}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(metrics.registry.contentType);
    expect(parsePrometheusText(await res.text()).sum('agentplane_reply_records_dropped_total')).toBe(1);
    expect((await fetch(`${base}/metrics?debug=1`)).status).toBe(200);
    expect((await fetch(`${base}/`)).status).toBe(404);
    expect((await fetch(`${base}/metrics/`)).status).toBe(404);
    expect((await fetch(`${base}/healthz`)).status).toBe(404);
    const post = await fetch(`${base}/metrics`, { method: 'POST' });
    expect([post.status, post.headers.get('allow')]).toEqual([405, 'GET, HEAD']);
  });

  it('asks for the bearer token when one is set, and never logs it', async () => {
    const { base, lines } = await start({ AGENTPLANE_METRICS_PORT: '0', AGENTPLANE_METRICS_TOKEN: TOKEN });
    const scrape = (authorization?: string) => fetch(`${base}/metrics`, authorization === undefined ? {} : { headers: { authorization } });
    const refused = await scrape();
    expect([refused.status, refused.headers.get('www-authenticate')]).toEqual([401, 'Bearer']);
    for (const wrong of [`Bearer ${TOKEN}x`, `Bearer ${TOKEN.slice(0, -1)}`, 'Bearer', `Basic ${TOKEN}`, TOKEN, `Bearer ${TOKEN} extra`]) {
      expect([wrong, (await scrape(wrong)).status]).toEqual([wrong, 401]);
    }
    // Before the route: without the token, not even what exists is told.
    expect((await fetch(`${base}/elsewhere`)).status).toBe(401);
    expect((await scrape(`Bearer ${TOKEN}`)).status).toBe(200);
    expect((await scrape(`bearer  ${TOKEN}`)).status).toBe(200);
    expect(lines.join('')).not.toContain(TOKEN);
  });

  it('warns when it listens beyond loopback without a token', async () => {
    const { lines } = await start({ AGENTPLANE_METRICS_PORT: '0', AGENTPLANE_METRICS_HOST: '0.0.0.0' });
    expect(lines.join('')).toContain('metrics listen beyond loopback without AGENTPLANE_METRICS_TOKEN');
    const quiet = await start({ AGENTPLANE_METRICS_PORT: '0', AGENTPLANE_METRICS_HOST: '0.0.0.0', AGENTPLANE_METRICS_TOKEN: TOKEN });
    expect(quiet.lines).toEqual([]);
  });

  it('fails to start on a taken port, and stops listening at shutdown', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as { port: number }).port;
    try {
      await expect(start({ PORT: '0', AGENTPLANE_METRICS_PORT: String(port) })).rejects.toThrow(/EADDRINUSE/);
    } finally {
      taken.close();
    }
    const { server, base } = await start({ AGENTPLANE_METRICS_PORT: '0' });
    // A kept-alive connection does not hold the shutdown.
    expect((await fetch(`${base}/metrics`)).status).toBe(200);
    await server.onApplicationShutdown();
    await expect(fetch(`${base}/metrics`)).rejects.toThrow();
  });
});

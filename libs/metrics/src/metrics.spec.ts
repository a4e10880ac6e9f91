import { describe, expect, it } from '@jest/globals';
import type { OrgId } from '#agentplane/auth';
import { type ReplySummary, RuntimeErrorCode } from '#agentplane/runtime';
import { parsePrometheusText, type Scrape } from '../../../test/support/prometheus-text.js';
import { Metrics, type PoolUse } from './metrics.js';

const scrape = async (metrics: Metrics): Promise<Scrape> => parsePrometheusText(await metrics.registry.metrics());

function summary(overrides: Partial<ReplySummary>): ReplySummary {
  return {
    orgId: 'org_1' as OrgId,
    agentId: 'agt_1',
    requestId: 'req_1',
    stream: true,
    outcome: 'completed',
    entryIndex: 0,
    api: 'chat_completions',
    model: 'm',
    attempts: [{ entryIndex: 0, api: 'chat_completions', model: 'm', outcome: 'completed', durationMs: 900 }],
    ttftMs: 250,
    durationMs: 900,
    usage: null,
    startedAt: new Date(),
    ...overrides,
  };
}

describe('Metrics', () => {
  it('times requests by route template, method and status', async () => {
    const metrics = new Metrics();
    metrics.observeHttp('/v1/agents/:id', 'GET', 200, 0.004);
    metrics.observeHttp('/v1/agents/:id', 'GET', 200, 0.2);
    metrics.observeHttp('/v1/agents/:id', 'GET', 404, 0.001);
    metrics.observeHttp('unmatched', 'GET', 404, 0.001);
    const s = await scrape(metrics);
    const name = 'agentplane_http_request_duration_seconds';
    expect(s.types.get(name)).toBe('histogram');
    expect(s.sum(`${name}_count`, { route: '/v1/agents/:id', method: 'GET', status: '200' })).toBe(2);
    expect(s.sum(`${name}_sum`, { route: '/v1/agents/:id', status: '200' })).toBeCloseTo(0.204);
    expect(s.sum(`${name}_bucket`, { route: '/v1/agents/:id', status: '200', le: '0.005' })).toBe(1);
    expect(s.sum(`${name}_bucket`, { route: '/v1/agents/:id', status: '200', le: '+Inf' })).toBe(2);
    expect(s.sum(`${name}_count`, { status: '404' })).toBe(2);
    // One series per label set, however many requests.
    expect(s.find(`${name}_count`)).toHaveLength(3);
  });

  it('counts replies open, their ttft and duration by api and outcome, and each upstream attempt', async () => {
    const metrics = new Metrics();
    metrics.replyStarted();
    metrics.replyStarted();
    metrics.replyStarted();
    expect((await scrape(metrics)).sum('agentplane_replies_open')).toBe(3);

    metrics.replyEnded(summary({}));
    metrics.replyEnded(
      summary({
        api: 'anthropic',
        outcome: RuntimeErrorCode.Status,
        attempts: [
          { entryIndex: 0, api: 'chat_completions', model: 'm', outcome: RuntimeErrorCode.ConnectFailed, durationMs: 10 },
          { entryIndex: 1, api: 'anthropic', model: 'c', outcome: RuntimeErrorCode.Status, durationMs: 20 },
        ],
        ttftMs: null,
        durationMs: 30,
      }),
    );
    metrics.replyEnded(
      summary({ api: null, entryIndex: null, outcome: RuntimeErrorCode.NoLlmConfigured, attempts: [], ttftMs: null, durationMs: 1 }),
    );

    const s = await scrape(metrics);
    expect(s.sum('agentplane_replies_open')).toBe(0);
    expect(s.sum('agentplane_reply_duration_seconds_count', { api: 'chat_completions', outcome: 'completed' })).toBe(1);
    expect(s.sum('agentplane_reply_duration_seconds_sum', { api: 'chat_completions', outcome: 'completed' })).toBeCloseTo(0.9);
    expect(s.sum('agentplane_reply_duration_seconds_count', { api: 'anthropic', outcome: 'upstream_status' })).toBe(1);
    expect(s.sum('agentplane_reply_duration_seconds_count', { api: 'none', outcome: 'no_llm_configured' })).toBe(1);
    // Only a reply that relayed something has a time to first token.
    expect(s.sum('agentplane_reply_ttft_seconds_count')).toBe(1);
    expect(s.sum('agentplane_reply_ttft_seconds_sum', { api: 'chat_completions', outcome: 'completed' })).toBeCloseTo(0.25);
    expect(s.find('agentplane_upstream_attempts_total').map(({ labels, value }) => ({ ...labels, value }))).toEqual(
      expect.arrayContaining([
        { api: 'chat_completions', outcome: 'completed', value: 1 },
        { api: 'chat_completions', outcome: 'upstream_connect_failed', value: 1 },
        { api: 'anthropic', outcome: 'upstream_status', value: 1 },
      ]),
    );
    expect(s.find('agentplane_upstream_attempts_total')).toHaveLength(3);
  });

  it('reports the reply records lost so far, read at each scrape', async () => {
    const metrics = new Metrics();
    expect((await scrape(metrics)).sum('agentplane_reply_records_dropped_total')).toBe(0);
    let lost = 1;
    metrics.watchLostRecords(() => lost);
    expect((await scrape(metrics)).sum('agentplane_reply_records_dropped_total')).toBe(1);
    lost = 5;
    expect((await scrape(metrics)).sum('agentplane_reply_records_dropped_total')).toBe(5);
  });

  it('reads the database pool at each scrape', async () => {
    const metrics = new Metrics();
    expect((await scrape(metrics)).find('agentplane_db_pool_connections')).toEqual([]);
    let use: PoolUse = { open: 3, idle: 1, waiting: 0, max: 10 };
    metrics.watchPool(() => use);
    let s = await scrape(metrics);
    expect(s.sum('agentplane_db_pool_connections', { state: 'in_use' })).toBe(2);
    expect(s.sum('agentplane_db_pool_connections', { state: 'idle' })).toBe(1);
    expect(s.sum('agentplane_db_pool_waiting')).toBe(0);
    expect(s.sum('agentplane_db_pool_max_connections')).toBe(10);
    use = { open: 10, idle: 0, waiting: 7, max: 10 };
    s = await scrape(metrics);
    expect(s.sum('agentplane_db_pool_connections', { state: 'in_use' })).toBe(10);
    expect(s.sum('agentplane_db_pool_waiting')).toBe(7);
  });

  it("has Node's own metrics, event-loop lag included, only when asked", async () => {
    const withProcess = await scrape(new Metrics({ process: true }));
    expect(withProcess.types.get('nodejs_eventloop_lag_seconds')).toBe('gauge');
    expect(withProcess.find('process_cpu_seconds_total')).toHaveLength(1);
    expect((await scrape(new Metrics())).types.has('nodejs_eventloop_lag_seconds')).toBe(false);
  });

  it('keeps instances apart', async () => {
    const one = new Metrics({ process: true });
    const two = new Metrics({ process: true });
    one.watchLostRecords(() => 1);
    expect((await scrape(two)).sum('agentplane_reply_records_dropped_total')).toBe(0);
    expect((await scrape(one)).sum('agentplane_reply_records_dropped_total')).toBe(1);
  });
});

import { once } from 'node:events';
import type { ServerResponse } from 'node:http';
import { createServer as createTcpServer, type Socket } from 'node:net';
import type { InlineEntryInput } from '#agentplane/agents';
import { asOrgId } from '#agentplane/auth';
import { Clock } from '#agentplane/clock';
import type { AppConfig, EgressAllowEntry } from '#agentplane/config';
import { EgressClient, EgressPolicy, HostResolver } from '#agentplane/egress';
import type { Logger } from '#agentplane/logging';
import { type ConnectionReport, ConnectionTestError, ConnectionTestService } from '#agentplane/runtime';
import { anthropicStream } from './support/provider-fakes.js';
import { closedPort, type SeenRequest, startTlsUpstream, TEST_CA, type TlsUpstream } from './support/tls-upstream.js';

/**
 * Connection tests in this process against real TLS servers on loopback, each step failed by a
 * real cause: a name the injected resolver does not know, a closed port, a CA not trusted, a
 * certificate for other names, a handshake that never completes, and the statuses and streams an
 * upstream answers. The resolver maps test names to 127.0.0.1; nothing leaves loopback.
 */

const ORG = asOrgId('org_steps');
const KEY = 'sk-steps-canary-0123456789abcdefXYZ';
const NAME = 'upstream.agentplane.test';

const chunk = (delta: Record<string, unknown>, finish: string | null = null) =>
  `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', model: 'served-model-2024', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;

function sse(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream' });
}

/** What the upstream does, by the first path segment after /v1. */
const scenarios: Record<string, (request: SeenRequest, res: ServerResponse) => void> = {
  ok(_request, res) {
    sse(res);
    res.end(chunk({ role: 'assistant', content: '' }) + chunk({ content: 'OK' }) + chunk({}, 'stop') + 'data: [DONE]\n\n');
  },
  unauthorized(_request, res) {
    res.writeHead(401, { 'content-type': 'application/json' }).end(`{"error":{"message":"Incorrect API key provided: ${KEY}"}}`);
  },
  forbidden(_request, res) {
    res.writeHead(403).end();
  },
  missing(_request, res) {
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"message":"The model does not exist"}}');
  },
  broken(_request, res) {
    res.writeHead(500).end(`internal error near ${KEY}`);
  },
  json(_request, res) {
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"choices":[{"message":{"content":"OK"}}]}');
  },
  garbage(_request, res) {
    sse(res);
    res.end('data: this is not json\n\n');
  },
  stalls(_request, res) {
    // One event, then nothing: the first token never comes.
    sse(res);
    res.write(chunk({ role: 'assistant', content: '' }));
  },
  streamError(_request, res) {
    sse(res);
    res.end(`data: ${JSON.stringify({ error: { type: 'invalid_request_error', message: `bad key ${KEY}` } })}\n\n`);
  },
  anthropic(_request, res) {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.end(anthropicStream('claude-served-1', { text: ['OK'] }));
  },
};

class TableResolver extends HostResolver {
  constructor(readonly table: Map<string, string[]>) {
    super();
  }
  async resolve(host: string): Promise<string[]> {
    return this.table.get(host) ?? [];
  }
}

const logged: unknown[] = [];
const logger = {
  info: (...args: unknown[]) => void logged.push(args),
  warn: (...args: unknown[]) => void logged.push(args),
  error: (...args: unknown[]) => void logged.push(args),
  debug: (...args: unknown[]) => void logged.push(args),
} as unknown as Logger;

let upstream: TlsUpstream;
let silent: { port: number; close(): Promise<void> };
const clients: EgressClient[] = [];

beforeAll(async () => {
  upstream = await startTlsUpstream((request, res) => {
    const scenario = /^\/(\w+)\//.exec(request.url)?.[1] ?? '';
    (scenarios[scenario] ?? scenarios.missing!)(request, res);
  });
  // Accepts TCP connections and never speaks: a TLS handshake that never completes.
  const sockets = new Set<Socket>();
  const server = createTcpServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  silent = {
    port: (server.address() as { port: number }).port,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.onModuleDestroy()));
  await upstream.close();
  await silent.close();
});

interface Setup {
  readonly allowlist?: EgressAllowEntry[];
  readonly table?: Record<string, string[]>;
  readonly trustTestCa?: boolean;
  readonly entriesPerWindow?: number;
}

function service(setup: Setup = {}): ConnectionTestService {
  const resolver = new TableResolver(
    new Map(Object.entries(setup.table ?? { [NAME]: ['127.0.0.1'], 'other-name.example.com': ['127.0.0.1'] })),
  );
  const config = { egressAllowlist: setup.allowlist ?? [{ host: NAME }, { host: 'other-name.example.com' }], egressPrivateNetworks: [] };
  const policy = new EgressPolicy(config as unknown as AppConfig, resolver, logger);
  const egress = new EgressClient(policy, {}, setup.trustTestCa === false ? undefined : { ca: TEST_CA });
  clients.push(egress);
  // Entries with inline keys or none: agents, providers and stored credentials are never reached.
  const unused = {} as never;
  return new ConnectionTestService(unused, unused, unused, egress, policy, new Clock(), logger, {
    entriesPerWindow: setup.entriesPerWindow ?? 1_000,
    firstTokenMs: 2_000,
  });
}

function entry(baseUrl: string, overrides: Partial<InlineEntryInput> = {}): InlineEntryInput {
  return { baseUrl, api: 'chat_completions', auth: 'bearer', apiKey: KEY, headers: [], model: 'fake-model', ...overrides };
}

const at = (path: string, port = upstream.port, host = NAME) => `https://${host}:${port}/${path}/v1`;

/** The steps as `name:ok` or `name:code`, the shape every assertion reads best in. */
const outline = (report: ConnectionReport) => report.steps.map((s) => `${s.name}:${s.ok ? 'ok' : s.code}`);

describe('a healthy entry', () => {
  it('passes every step in order, each timed, and reports the model the endpoint named', async () => {
    const before = upstream.requests.length;
    const report = await service().testEntry(ORG, entry(at('ok')));
    expect(outline(report)).toEqual(['policy:ok', 'dns:ok', 'connect:ok', 'tls:ok', 'request:ok', 'stream:ok', 'first_token:ok']);
    expect(report).toMatchObject({ ok: true, code: null, message: null, model: 'fake-model', reportedModel: 'served-model-2024' });
    expect(report.steps.find((s) => s.name === 'request')).toMatchObject({ httpStatus: 200 });
    expect(report.steps.every((s) => Number.isInteger(s.durationMs) && s.durationMs >= 0)).toBe(true);
    expect(report.durationMs).toBeGreaterThanOrEqual(report.steps.reduce((sum, s) => sum + s.durationMs, 0) - report.steps.length);

    // One real request, as a reply would send it, with the key inline.
    const [request] = upstream.requests.slice(before);
    expect(request!.url).toBe('/ok/v1/chat/completions');
    expect(request!.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(JSON.parse(request!.body)).toMatchObject({ model: 'fake-model', stream: true, messages: [{ role: 'user' }] });
  });

  it('reads an Anthropic stream in its own format', async () => {
    const report = await service().testEntry(ORG, entry(at('anthropic'), { api: 'anthropic', auth: 'x_api_key' }));
    expect(report).toMatchObject({ ok: true, reportedModel: 'claude-served-1' });
    expect(upstream.requests.at(-1)!.headers['x-api-key']).toBe(KEY);
  });

  it('uses a connection of its own each time: dns, connect and tls are timed on every test', async () => {
    const tests = service();
    const connections = upstream.connections();
    for (let i = 0; i < 3; i++) expect(outline(await tests.testEntry(ORG, entry(at('ok'))))).toContain('tls:ok');
    expect(upstream.connections() - connections).toBe(3);
  });
});

describe('each step failing for a real cause', () => {
  it('policy: a base_url that is not https', async () => {
    const report = await service().testEntry(ORG, entry(`http://${NAME}:${upstream.port}/ok/v1`));
    expect(outline(report)).toEqual(['policy:https_required']);
    expect(report).toMatchObject({ ok: false, code: 'https_required', reportedModel: null });
  });

  it('dns: a name the resolver does not know', async () => {
    const report = await service({ table: {} }).testEntry(ORG, entry(at('ok')));
    expect(outline(report)).toEqual(['policy:ok', 'dns:upstream_dns_failed']);
  });

  it('dns: a name that resolves to a private address, refused before any connection', async () => {
    const connections = upstream.connections();
    const report = await service({ allowlist: [], table: { 'llm.example.com': ['10.1.2.3'] } }).testEntry(
      ORG,
      entry('https://llm.example.com/ok/v1'),
    );
    expect(outline(report)).toEqual(['policy:ok', 'dns:private_host']);
    expect(upstream.connections()).toBe(connections);
  });

  it('connect: a port nothing listens on', async () => {
    const report = await service().testEntry(ORG, entry(at('ok', await closedPort())));
    expect(outline(report)).toEqual(['policy:ok', 'dns:ok', 'connect:upstream_connection_refused']);
  });

  it('tls: a certificate from a CA this process does not trust, with the setting that fixes it', async () => {
    const report = await service({ trustTestCa: false }).testEntry(ORG, entry(at('ok')));
    expect(outline(report)).toEqual(['policy:ok', 'dns:ok', 'connect:ok', 'tls:upstream_tls_untrusted']);
    expect(report.message).toContain('NODE_EXTRA_CA_CERTS');
  });

  it('tls: a trusted certificate for other names', async () => {
    const report = await service().testEntry(ORG, entry(at('ok', upstream.port, 'other-name.example.com')));
    expect(outline(report)).toEqual(['policy:ok', 'dns:ok', 'connect:ok', 'tls:upstream_tls_hostname_mismatch']);
  });

  it('tls: a handshake that never completes within the entry’s connect timeout', async () => {
    const report = await service().testEntry(ORG, entry(at('ok', silent.port), { timeouts: { connect_ms: 300 } }));
    expect(outline(report)).toEqual(['policy:ok', 'dns:ok', 'connect:ok', 'tls:upstream_connect_timeout']);
  });

  it.each([
    ['unauthorized', 401, 'auth_rejected'],
    ['forbidden', 403, 'auth_rejected'],
    ['missing', 404, 'model_or_path_not_found'],
    ['broken', 500, 'upstream_status'],
  ])('request: %s answers %i, reported as %s without its body', async (scenario, status, code) => {
    const report = await service().testEntry(ORG, entry(at(scenario)));
    expect(outline(report)).toEqual(['policy:ok', 'dns:ok', 'connect:ok', 'tls:ok', `request:${code}`]);
    expect(report.steps.at(-1)).toMatchObject({ httpStatus: status });
    expect(JSON.stringify(report)).not.toContain(KEY);
  });

  it.each([
    ['json', 'an answer that is not an event stream'],
    ['garbage', 'an event that is not the format’s JSON'],
  ])('stream: %s (%s)', async (scenario) => {
    const report = await service().testEntry(ORG, entry(at(scenario)));
    expect(outline(report)).toEqual(['policy:ok', 'dns:ok', 'connect:ok', 'tls:ok', 'request:ok', 'stream:upstream_malformed']);
  });

  it('first_token: a stream that goes silent after its first event', async () => {
    const report = await service().testEntry(ORG, entry(at('stalls'), { timeouts: { first_token_ms: 300 } }));
    expect(outline(report)).toEqual([
      'policy:ok',
      'dns:ok',
      'connect:ok',
      'tls:ok',
      'request:ok',
      'stream:ok',
      'first_token:upstream_timeout_first_token',
    ]);
  });

  it('stream: an error the upstream reports in the stream, its message not repeated', async () => {
    const report = await service().testEntry(ORG, entry(at('streamError')));
    expect(report.code).toBe('upstream_error');
    expect(JSON.stringify(report)).not.toContain(KEY);
  });
});

describe('limits and secrets', () => {
  it('refuses tests beyond the organization’s allowance, saying when to retry, and counts each organization apart', async () => {
    const tests = service({ entriesPerWindow: 2 });
    await tests.testEntry(ORG, entry(at('ok')));
    await tests.testEntry(ORG, entry(at('ok')));
    const refused = await tests.testEntry(ORG, entry(at('ok'))).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ConnectionTestError);
    expect(refused).toMatchObject({ code: 'rate_limited', retryAfterSeconds: expect.any(Number) });
    expect((refused as ConnectionTestError).retryAfterSeconds).toBeGreaterThan(0);
    expect((await tests.testEntry(asOrgId('org_other'), entry(at('ok')))).ok).toBe(true);
  });

  it('never logs the inline key, whatever the outcome', async () => {
    const tests = service();
    for (const scenario of ['ok', 'unauthorized', 'broken', 'streamError']) await tests.testEntry(ORG, entry(at(scenario)));
    expect(JSON.stringify(logged)).not.toContain(KEY);
    expect(JSON.stringify(logged)).toContain('llm connection tested');
  });
});

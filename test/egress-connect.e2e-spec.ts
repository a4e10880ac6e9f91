import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { request as undiciRequest } from 'undici';
import type { AppConfig, EgressAllowEntry } from '#agentplane/config';
import {
  createEgressDispatcher,
  DEFAULT_EGRESS_LIMITS,
  CONNECT_TIMEOUT_STEPS_MS,
  EgressClient,
  EgressError,
  EgressErrorCode,
  type EgressLimits,
  EgressPolicy,
  HostResolver,
  readText,
} from '#agentplane/egress';
import { createLogger } from '#agentplane/logging';
import { baseEnv, ROOT } from './support/processes.js';
import { type SeenRequest, startTlsUpstream, TEST_CA as CA, TLS_DIR } from './support/tls-upstream.js';

/**
 * Connect-time egress checks against real TLS servers on loopback, signed by the test CA in
 * test/fixtures/tls. The resolver is injected, so names like `upstream.agentplane.test` point at
 * 127.0.0.1 without touching real DNS; no test connects anywhere but loopback (a "public" answer
 * is only ever handed to the save-time check, or refused before any connect).
 */

const SECRET = 'sk-egress-test-authorization-value-0123456789';
const PUBLIC_ADDRESS = '93.184.216.34';

/** The shared TLS upstream (test/support/tls-upstream), with a connection count read as a number. */
interface Upstream {
  readonly port: number;
  readonly connections: number;
  readonly servernames: readonly (string | false | null)[];
  readonly requests: readonly SeenRequest[];
  close(): Promise<void>;
}

type Handler = (
  request: SeenRequest,
  respond: (status: number, headers: Record<string, string>, body?: string) => void,
  raw: ServerResponse,
) => void;

async function startUpstream(handler: Handler): Promise<Upstream> {
  const upstream = await startTlsUpstream((request, res) =>
    handler(request, (status, headers, body) => res.writeHead(status, headers).end(body), res),
  );
  return {
    port: upstream.port,
    get connections() {
      return upstream.connections();
    },
    servernames: upstream.servernames,
    requests: upstream.requests,
    close: () => upstream.close(),
  };
}

/** A plain TCP listener that only counts connections (a proxy or plain-HTTP target that must stay unused). */
async function startCounter(
  onSocket: (socket: Socket) => void = (socket) => socket.destroy(),
): Promise<{ port: number; connections: () => number; close(): Promise<void> }> {
  let connections = 0;
  const sockets = new Set<Socket>();
  const server: TcpServer = createTcpServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    onSocket(socket);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as { port: number }).port,
    connections: () => connections,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Answers from a table the test edits, and records every name it was asked for. */
class TableResolver extends HostResolver {
  readonly asked: string[] = [];
  constructor(readonly table: Map<string, string[]> = new Map()) {
    super();
  }
  async resolve(host: string): Promise<string[]> {
    this.asked.push(host);
    return this.table.get(host) ?? [];
  }
}

const logLines: string[] = [];
const logger = createLogger({ level: 'info', destination: { write: (line: string) => void logLines.push(line) } });

function policyFor(allowlist: EgressAllowEntry[], resolver: HostResolver): EgressPolicy {
  return new EgressPolicy({ egressAllowlist: allowlist, egressPrivateNetworks: [] } as unknown as AppConfig, resolver, logger);
}

const toClose: { onModuleDestroy(): Promise<void> }[] = [];
function clientFor(policy: EgressPolicy, limits: Partial<EgressLimits> = {}, trustTestCa = true): EgressClient {
  const client = new EgressClient(policy, limits, trustTestCa ? { ca: CA } : undefined);
  toClose.push(client);
  return client;
}

async function failure(promise: Promise<unknown>): Promise<EgressError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof EgressError) return error;
    throw error;
  }
  throw new Error('expected the call to fail');
}

const ok: Handler = (_request, respond) => respond(200, { 'content-type': 'application/json' }, '{"ok":true}');

let upstream: Upstream;
beforeAll(async () => {
  upstream = await startUpstream(ok);
});
afterAll(async () => {
  await upstream.close();
});
afterEach(async () => {
  await Promise.all(toClose.splice(0).map((c) => c.onModuleDestroy()));
});

describe('allowlisted loopback host', () => {
  it('is reached over verified TLS, with SNI and Host for the original name, only when allowlisted', async () => {
    const resolver = new TableResolver(new Map([['upstream.agentplane.test', ['127.0.0.1']]]));
    const client = clientFor(policyFor([{ host: 'upstream.agentplane.test', port: upstream.port }], resolver));
    const before = upstream.requests.length;

    const response = await client.request(`https://upstream.agentplane.test:${upstream.port}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${SECRET}`, 'content-type': 'application/json' },
      body: '{"model":"m"}',
    });

    expect(response.status).toBe(200);
    expect(await readText(response.body)).toBe('{"ok":true}');
    const seen = upstream.requests.slice(before);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ method: 'POST', url: '/v1/chat/completions', body: '{"model":"m"}' });
    expect(seen[0]!.headers.host).toBe(`upstream.agentplane.test:${upstream.port}`);
    expect(seen[0]!.headers.authorization).toBe(`Bearer ${SECRET}`);
    expect(upstream.servernames.at(-1)).toBe('upstream.agentplane.test');
  });

  it.each([
    ['not allowlisted at all', []],
    ['allowlisted on another port', [{ host: 'upstream.agentplane.test', port: 1 }]],
    ['another name allowlisted', [{ host: 'other.agentplane.test' }]],
  ])('is refused when %s, and the server sees no connection', async (_label, allowlist: EgressAllowEntry[]) => {
    const resolver = new TableResolver(new Map([['upstream.agentplane.test', ['127.0.0.1']]]));
    const connections = upstream.connections;
    const client = clientFor(policyFor(allowlist, resolver));

    const error = await failure(client.request(`https://upstream.agentplane.test:${upstream.port}/v1/models`, { method: 'GET' }));

    // Without the allowlist, the `.test` name already fails the parse-time rules.
    expect([EgressErrorCode.PrivateHost, EgressErrorCode.InvalidUrl]).toContain(error.code);
    expect(upstream.connections).toBe(connections);
  });

  it('is refused at connect time by the dispatcher itself when its address is private and it is not allowlisted', async () => {
    // The client's parse step is bypassed: this is the connector's own check.
    const resolver = new TableResolver(new Map([['upstream.agentplane.test', ['127.0.0.1']]]));
    const dispatcher = createEgressDispatcher(policyFor([], resolver), DEFAULT_EGRESS_LIMITS, { ca: CA });
    const connections = upstream.connections;
    try {
      await expect(undiciRequest(`https://upstream.agentplane.test:${upstream.port}/`, { dispatcher })).rejects.toMatchObject({
        code: EgressErrorCode.PrivateHost,
      });
    } finally {
      await dispatcher.close();
    }
    expect(resolver.asked).toEqual(['upstream.agentplane.test']);
    expect(upstream.connections).toBe(connections);
  });
});

describe('several addresses', () => {
  const name = 'upstream.agentplane.test';
  const allowed = (): EgressAllowEntry[] => [{ host: name, port: upstream.port }];

  it('tries the next checked address when the first refuses the connection', async () => {
    // Nothing listens on 127.0.0.2 (the upstream binds 127.0.0.1 only): refused at once.
    const resolver = new TableResolver(new Map([[name, ['127.0.0.2', '127.0.0.1']]]));
    const before = upstream.requests.length;
    const response = await clientFor(policyFor(allowed(), resolver)).request(`https://${name}:${upstream.port}/v1/models`, {
      method: 'GET',
    });
    expect(response.status).toBe(200);
    expect(await readText(response.body)).toBe('{"ok":true}');
    expect(upstream.requests.length).toBe(before + 1);
    expect(upstream.servernames.at(-1)).toBe(name);
  });

  it('moves on from an address that never completes the handshake within its share of the connect timeout', async () => {
    // A listener on 127.0.0.2 at the upstream's port that accepts and then says nothing.
    const held = new Set<Socket>();
    const silent = createTcpServer((socket) => {
      held.add(socket);
      socket.on('error', () => undefined);
    });
    silent.listen(upstream.port, '127.0.0.2');
    await once(silent, 'listening');
    try {
      const resolver = new TableResolver(new Map([[name, ['127.0.0.2', '127.0.0.1']]]));
      const client = clientFor(policyFor(allowed(), resolver), { connectTimeoutMs: 1_000 });
      const started = performance.now();
      const response = await client.request(`https://${name}:${upstream.port}/`, { method: 'GET' });
      expect(response.status).toBe(200);
      await readText(response.body);
      expect(held.size).toBe(1);
      // Half the budget for the first of two addresses, not all of it.
      expect(performance.now() - started).toBeLessThan(1_000);

      // Every address silent (a new client, so no pooled connection): the whole attempt still
      // ends at the connect timeout, not one timeout per address.
      resolver.table.set(name, ['127.0.0.2', '127.0.0.2', '127.0.0.2']);
      const failedAt = performance.now();
      const error = await failure(
        clientFor(policyFor(allowed(), resolver), { connectTimeoutMs: 1_000 }).request(`https://${name}:${upstream.port}/`, {
          method: 'GET',
        }),
      );
      expect(error.code).toBe(EgressErrorCode.ConnectTimeout);
      expect(held.size).toBe(4);
      expect(performance.now() - failedAt).toBeLessThan(1_500);
    } finally {
      for (const socket of held) socket.destroy();
      silent.close();
    }
  });
});

describe('DNS rebinding', () => {
  it('a name that was public when saved and is private when called is refused at connect', async () => {
    const name = 'api.rebinding-attack.com';
    const resolver = new TableResolver(new Map([[name, [PUBLIC_ADDRESS]]]));
    const policy = policyFor([], resolver);
    const url = `https://${name}:${upstream.port}/v1`;

    const saved = await policy.check(url);
    expect(saved.ok).toBe(true);

    resolver.table.set(name, ['127.0.0.1']);
    const connections = upstream.connections;
    const error = await failure(
      clientFor(policy).request(url, { method: 'POST', headers: { authorization: `Bearer ${SECRET}` }, body: '{}' }),
    );

    expect(error.code).toBe(EgressErrorCode.PrivateHost);
    expect(upstream.connections).toBe(connections);
    expect(resolver.asked).toEqual([name, name]);
    const refusal = logLines.find((line) => line.includes('egress refused') && line.includes(name));
    expect(refusal).toBeDefined();
    expect(logLines.join('')).not.toContain(SECRET);
  });

  it.each([
    ['public then loopback', [PUBLIC_ADDRESS, '127.0.0.1']],
    ['loopback first', ['127.0.0.1', PUBLIC_ADDRESS]],
    ['IPv4-mapped loopback in AAAA', [PUBLIC_ADDRESS, '::ffff:127.0.0.1']],
    ['metadata address', ['169.254.169.254']],
  ])('an answer mixing public and private addresses (%s) is refused before any connect', async (_label, answers) => {
    const name = 'mixed.rebinding-attack.com';
    const resolver = new TableResolver(new Map([[name, answers]]));
    const connections = upstream.connections;

    const error = await failure(clientFor(policyFor([], resolver)).request(`https://${name}:${upstream.port}/`, { method: 'GET' }));

    expect(error.code).toBe(EgressErrorCode.PrivateHost);
    expect(upstream.connections).toBe(connections);
  });

  it('a name that stops resolving is refused as unresolvable', async () => {
    const resolver = new TableResolver();
    const error = await failure(clientFor(policyFor([], resolver)).request('https://gone.rebinding-attack.com/', { method: 'GET' }));
    expect(error.code).toBe(EgressErrorCode.UnresolvableHost);
  });

  it('a resolver that fails outright is unresolvable too, not a connection failure', async () => {
    const failing = new (class extends HostResolver {
      async resolve(): Promise<string[]> {
        throw Object.assign(new Error('querySrv ETIMEOUT'), { code: 'ETIMEOUT' });
      }
    })();
    const error = await failure(clientFor(policyFor([], failing)).request('https://flaky.example.com/', { method: 'GET' }));
    expect(error.code).toBe(EgressErrorCode.UnresolvableHost);
  });
});

describe('IP-literal hosts', () => {
  it.each([
    ['127.0.0.1', (port: number) => `https://127.0.0.1:${port}/`],
    ['::1', (port: number) => `https://[::1]:${port}/`],
    ['::ffff:127.0.0.1 (hex)', (port: number) => `https://[::ffff:7f00:1]:${port}/`],
  ])('a private literal (%s) is refused by the connector without a lookup and without a connection', async (_label, url) => {
    const resolver = new TableResolver();
    const dispatcher = createEgressDispatcher(policyFor([], resolver), DEFAULT_EGRESS_LIMITS, { ca: CA });
    const connections = upstream.connections;
    try {
      await expect(undiciRequest(url(upstream.port), { dispatcher })).rejects.toMatchObject({ code: EgressErrorCode.PrivateHost });
    } finally {
      await dispatcher.close();
    }
    expect(resolver.asked).toEqual([]);
    expect(upstream.connections).toBe(connections);
  });

  it('the client refuses them too, before reaching the dispatcher', async () => {
    const connections = upstream.connections;
    const error = await failure(
      clientFor(policyFor([], new TableResolver())).request(`https://127.0.0.1:${upstream.port}/`, { method: 'GET' }),
    );
    expect(error.code).toBe(EgressErrorCode.PrivateHost);
    expect(upstream.connections).toBe(connections);
  });

  it('an allowlisted literal works, and the certificate is checked against the IP', async () => {
    const client = clientFor(policyFor([{ host: '127.0.0.1', port: upstream.port }], new TableResolver()));
    const response = await client.request(`https://127.0.0.1:${upstream.port}/`, { method: 'GET' });
    expect(response.status).toBe(200);
    await readText(response.body);
  });
});

describe('redirects', () => {
  let collector: Upstream;
  let redirecting: Upstream;
  beforeAll(async () => {
    collector = await startUpstream(ok);
    redirecting = await startUpstream((request, respond) => {
      const status = Number(request.url.slice(1));
      respond(status, { location: `https://other.agentplane.test:${collector.port}/collect` }, 'moved');
    });
  });
  afterAll(async () => {
    await Promise.all([collector.close(), redirecting.close()]);
  });

  it.each([301, 302, 303, 307, 308])(
    'a %d to another (allowlisted) host is not followed: it receives no connection, header or body',
    async (status) => {
      const resolver = new TableResolver(
        new Map([
          ['upstream.agentplane.test', ['127.0.0.1']],
          ['other.agentplane.test', ['127.0.0.1']],
        ]),
      );
      // Both hosts are allowlisted, so only the no-redirect rule stands between them.
      const client = clientFor(
        policyFor(
          [
            { host: 'upstream.agentplane.test', port: redirecting.port },
            { host: 'other.agentplane.test', port: collector.port },
          ],
          resolver,
        ),
      );

      const error = await failure(
        client.request(`https://upstream.agentplane.test:${redirecting.port}/${status}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${SECRET}`, 'api-key': SECRET },
          body: `{"secret":"${SECRET}"}`,
        }),
      );

      expect(error.code).toBe(EgressErrorCode.RedirectRefused);
      expect(error.message).not.toContain('other.agentplane.test');
      expect(collector.connections).toBe(0);
      expect(collector.requests).toEqual([]);
      expect(resolver.asked).not.toContain('other.agentplane.test');
    },
  );
});

describe('TLS verification', () => {
  it('checks the certificate against the original name, not the address connected to', async () => {
    // The certificate covers 127.0.0.1 but not this name: verifying against the IP would pass.
    const resolver = new TableResolver(new Map([['unlisted.agentplane.dev', ['127.0.0.1']]]));
    const client = clientFor(policyFor([{ host: 'unlisted.agentplane.dev', port: upstream.port }], resolver));
    const requests = upstream.requests.length;

    const error = await failure(
      client.request(`https://unlisted.agentplane.dev:${upstream.port}/`, {
        method: 'GET',
        headers: { authorization: `Bearer ${SECRET}` },
      }),
    );

    expect(error.code).toBe(EgressErrorCode.TlsHostnameMismatch);
    expect((error.cause as { code?: string }).code).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
    expect(upstream.requests.length).toBe(requests);
  });

  it('refuses a certificate from a CA the process does not trust', async () => {
    const resolver = new TableResolver(new Map([['upstream.agentplane.test', ['127.0.0.1']]]));
    const client = clientFor(policyFor([{ host: 'upstream.agentplane.test', port: upstream.port }], resolver), {}, false);
    const requests = upstream.requests.length;

    const error = await failure(client.request(`https://upstream.agentplane.test:${upstream.port}/`, { method: 'GET' }));

    expect(error.code).toBe(EgressErrorCode.TlsUntrusted);
    expect(upstream.requests.length).toBe(requests);
  });

  it('a handshake with no common protocol fails with tls_failed', async () => {
    // A server stuck on TLS 1.1, which Node's client no longer offers.
    const server = createHttpsServer(
      {
        key: readFileSync(join(TLS_DIR, 'server.key')),
        cert: readFileSync(join(TLS_DIR, 'server.crt')),
        maxVersion: 'TLSv1.1',
        minVersion: 'TLSv1',
        ciphers: 'DEFAULT@SECLEVEL=0',
      },
      (_req, res) => res.end('never'),
    );
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const port = (server.address() as { port: number }).port;
      const resolver = new TableResolver(new Map([['upstream.agentplane.test', ['127.0.0.1']]]));
      const client = clientFor(policyFor([{ host: 'upstream.agentplane.test', port }], resolver));
      const error = await failure(client.request(`https://upstream.agentplane.test:${port}/`, { method: 'GET' }));
      expect(error.code).toBe(EgressErrorCode.TlsFailed);
      expect((error.cause as { code?: string }).code).toMatch(/^ERR_SSL_/);
    } finally {
      server.close();
    }
  });

  it('trusts a CA given by NODE_EXTRA_CA_CERTS through the connector (a fresh process, no ca option)', async () => {
    const script = `
      const egress = await import(${JSON.stringify(pathToFileURL(join(ROOT, 'dist/libs/egress/src/index.js')).href)});
      class Loopback extends egress.HostResolver { async resolve() { return ['127.0.0.1']; } }
      const logger = { warn() {}, info() {}, error() {}, debug() {} };
      const policy = new egress.EgressPolicy({ egressAllowlist: [{ host: 'upstream.agentplane.test', port: ${upstream.port} }], egressPrivateNetworks: [] }, new Loopback(), logger);
      const client = new egress.EgressClient(policy);
      try {
        const response = await client.request('https://upstream.agentplane.test:${upstream.port}/extra-ca', { method: 'GET' });
        console.log(JSON.stringify({ status: response.status, body: await egress.readText(response.body) }));
      } catch (error) {
        console.log(JSON.stringify({ error: error.code, cause: error.cause?.code }));
      }
      await client.onModuleDestroy();
    `;
    const run = async (env: Record<string, string>): Promise<unknown> => {
      const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
        cwd: ROOT,
        env: baseEnv(env),
      });
      return JSON.parse(stdout.trim());
    };

    expect(await run({ NODE_EXTRA_CA_CERTS: join(TLS_DIR, 'ca.crt') })).toEqual({ status: 200, body: '{"ok":true}' });
    expect(await run({})).toEqual({ error: EgressErrorCode.TlsUntrusted, cause: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
  });
});

describe('proxy variables', () => {
  const PROXY_VARIABLES = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'ALL_PROXY', 'all_proxy', 'NO_PROXY', 'no_proxy'];

  it('are ignored: calls go straight to the checked address, the proxy sees nothing', async () => {
    const proxy = await startCounter();
    const saved = Object.fromEntries(PROXY_VARIABLES.map((name) => [name, process.env[name]]));
    for (const name of PROXY_VARIABLES) process.env[name] = name.toLowerCase().startsWith('no_') ? '' : `http://127.0.0.1:${proxy.port}`;
    try {
      const resolver = new TableResolver(new Map([['upstream.agentplane.test', ['127.0.0.1']]]));
      const client = clientFor(policyFor([{ host: 'upstream.agentplane.test', port: upstream.port }], resolver));
      const response = await client.request(`https://upstream.agentplane.test:${upstream.port}/via-proxy`, { method: 'GET' });
      expect(response.status).toBe(200);
      await readText(response.body);
    } finally {
      for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
      await proxy.close();
    }
    expect(proxy.connections()).toBe(0);
  });

  it('are ignored in a fresh process too, even with NODE_USE_ENV_PROXY', async () => {
    const proxy = await startCounter();
    try {
      const script = `
        const egress = await import(${JSON.stringify(pathToFileURL(join(ROOT, 'dist/libs/egress/src/index.js')).href)});
        class Loopback extends egress.HostResolver { async resolve() { return ['127.0.0.1']; } }
        const policy = new egress.EgressPolicy({ egressAllowlist: [{ host: 'upstream.agentplane.test', port: ${upstream.port} }], egressPrivateNetworks: [] }, new Loopback(), { warn() {} });
        const client = new egress.EgressClient(policy);
        const response = await client.request('https://upstream.agentplane.test:${upstream.port}/', { method: 'GET' });
        console.log(response.status);
        await egress.readText(response.body);
        await client.onModuleDestroy();
      `;
      const proxyUrl = `http://127.0.0.1:${proxy.port}`;
      const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
        cwd: ROOT,
        env: baseEnv({
          NODE_EXTRA_CA_CERTS: join(TLS_DIR, 'ca.crt'),
          NODE_USE_ENV_PROXY: '1',
          HTTPS_PROXY: proxyUrl,
          https_proxy: proxyUrl,
          HTTP_PROXY: proxyUrl,
          ALL_PROXY: proxyUrl,
        }),
      });
      expect(stdout.trim()).toBe('200');
    } finally {
      await proxy.close();
    }
    expect(proxy.connections()).toBe(0);
  });
});

describe('scheme', () => {
  it('http:// is refused by the client and by the connector, and nothing connects', async () => {
    const plain = await startCounter();
    try {
      const resolver = new TableResolver(new Map([['upstream.agentplane.test', ['127.0.0.1']]]));
      const policy = policyFor([{ host: 'upstream.agentplane.test' }], resolver);
      const url = `http://upstream.agentplane.test:${plain.port}/`;

      expect((await failure(clientFor(policy).request(url, { method: 'GET' }))).code).toBe(EgressErrorCode.HttpsRequired);
      const dispatcher = createEgressDispatcher(policy);
      try {
        await expect(undiciRequest(url, { dispatcher })).rejects.toMatchObject({ code: EgressErrorCode.HttpsRequired });
      } finally {
        await dispatcher.close();
      }
    } finally {
      await plain.close();
    }
    expect(plain.connections()).toBe(0);
  });
});

describe('limits', () => {
  let slow: Upstream;
  beforeAll(async () => {
    slow = await startUpstream((request, respond, raw) => {
      if (request.url === '/big-declared') respond(200, { 'content-length': '4096' }, 'x'.repeat(4096));
      else if (request.url === '/big-chunked') {
        raw.writeHead(200);
        for (let i = 0; i < 8; i++) raw.write('y'.repeat(512));
        raw.end();
      } else if (request.url === '/no-headers') {
        // Never answers.
      } else if (request.url === '/stalls-mid-body') {
        raw.writeHead(200, { 'content-type': 'text/event-stream' });
        raw.write('data: first\n\n');
      }
    });
  });
  afterAll(async () => {
    await slow.close();
  });

  function limitedClient(limits: Partial<EgressLimits>): EgressClient {
    const resolver = new TableResolver(new Map([['upstream.agentplane.test', ['127.0.0.1']]]));
    return clientFor(policyFor([{ host: 'upstream.agentplane.test' }], resolver), limits);
  }

  it.each(['/big-declared', '/big-chunked'])('a response over maxResponseBytes (%s) fails with response_too_large', async (path) => {
    const client = limitedClient({ maxResponseBytes: 1024 });
    const error = await failure(
      client.request(`https://upstream.agentplane.test:${slow.port}${path}`, { method: 'GET' }).then((response) => readText(response.body)),
    );
    expect(error.code).toBe(EgressErrorCode.ResponseTooLarge);
  });

  it('no response headers within headersTimeoutMs fails with headers_timeout', async () => {
    const error = await failure(
      limitedClient({ headersTimeoutMs: 200 }).request(`https://upstream.agentplane.test:${slow.port}/no-headers`, { method: 'GET' }),
    );
    expect(error.code).toBe(EgressErrorCode.HeadersTimeout);
  });

  it('silence mid-body longer than bodyTimeoutMs fails with body_timeout', async () => {
    const response = await limitedClient({ bodyTimeoutMs: 200 }).request(`https://upstream.agentplane.test:${slow.port}/stalls-mid-body`, {
      method: 'GET',
    });
    expect(response.status).toBe(200);
    expect((await failure(readText(response.body))).code).toBe(EgressErrorCode.BodyTimeout);
  });

  it('a TLS handshake that never completes within connectTimeoutMs fails with connect_timeout', async () => {
    const silent = await startCounter(() => undefined);
    try {
      const error = await failure(
        limitedClient({ connectTimeoutMs: 200 }).request(`https://upstream.agentplane.test:${silent.port}/`, { method: 'GET' }),
      );
      expect(error.code).toBe(EgressErrorCode.ConnectTimeout);
      expect(silent.connections()).toBe(1);
    } finally {
      await silent.close();
    }
  });

  it('per-call headers and body timeouts override the client’s, both ways', async () => {
    const client = limitedClient({ headersTimeoutMs: 60_000, bodyTimeoutMs: 60_000 });
    const url = `https://upstream.agentplane.test:${slow.port}`;
    expect((await failure(client.request(`${url}/no-headers`, { method: 'GET', headersTimeoutMs: 200 }))).code).toBe(
      EgressErrorCode.HeadersTimeout,
    );
    const response = await client.request(`${url}/stalls-mid-body`, { method: 'GET', bodyTimeoutMs: 200 });
    expect((await failure(readText(response.body))).code).toBe(EgressErrorCode.BodyTimeout);
    // And longer than the client's own: a 100 ms client limit does not cut a call that allows 2 s.
    const tight = limitedClient({ bodyTimeoutMs: 100 });
    const patient = await tight.request(`${url}/big-chunked`, { method: 'GET', bodyTimeoutMs: 2_000 });
    expect(await readText(patient.body)).toHaveLength(4096);
  });

  it('shares a fixed set of dispatchers however many connect timeouts agents ask for, and each still answers', async () => {
    const client = limitedClient({});
    const url = `https://upstream.agentplane.test:${upstream.port}/ok`;
    const answers = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        client.request(url, { method: 'GET', connectTimeoutMs: 1_000 + i }).then((r) => readText(r.body)),
      ),
    );
    expect(answers.every((a) => a === '{"ok":true}')).toBe(true);
    expect(client.extraDispatchers).toBeLessThanOrEqual(CONNECT_TIMEOUT_STEPS_MS.length);
  });

  it('a refused connection fails with connection_refused', async () => {
    const closed = await startCounter();
    const port = closed.port;
    await closed.close();
    const error = await failure(limitedClient({}).request(`https://upstream.agentplane.test:${port}/`, { method: 'GET' }));
    expect(error.code).toBe(EgressErrorCode.ConnectionRefused);
    expect((error.cause as { code?: string }).code).toBe('ECONNREFUSED');
  });
});

/**
 * Fake upstreams for e2e tests: real TLS servers on 127.0.0.1 with the certificate of the test CA
 * in test/fixtures/tls (the API trusts it through NODE_EXTRA_CA_CERTS, in-process clients through
 * `TEST_CA`), recording every connection and request.
 */
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import { createServer as createTcpServer } from 'node:net';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { ROOT } from './processes.js';

export const TLS_DIR = join(ROOT, 'test', 'fixtures', 'tls');
export const TEST_CA = readFileSync(join(TLS_DIR, 'ca.crt'));
const SERVER_TLS = { key: readFileSync(join(TLS_DIR, 'server.key')), cert: readFileSync(join(TLS_DIR, 'server.crt')) };
/** A self-signed certificate no test trusts. */
const UNTRUSTED_TLS = { key: readFileSync(join(TLS_DIR, 'untrusted.key')), cert: readFileSync(join(TLS_DIR, 'untrusted.crt')) };

export interface TlsUpstreamOptions {
  /** The loopback address to listen on: 127.0.0.1 unless a test needs one the certificate does not name (127.0.0.2). */
  readonly host?: string;
  /** `untrusted` serves a self-signed certificate instead of the test CA's. */
  readonly certificate?: 'test_ca' | 'untrusted';
}

/** What an API process needs to reach these servers: 127.0.0.1 allowed, the test CA trusted. */
export const UPSTREAM_ENV: Readonly<Record<string, string>> = {
  AGENTPLANE_EGRESS_ALLOWLIST: '127.0.0.1',
  NODE_EXTRA_CA_CERTS: join(TLS_DIR, 'ca.crt'),
};

export interface SeenRequest {
  readonly method: string;
  /** The request target, path and query. */
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

/** Answers one request, whose body has been read in full. */
export type UpstreamHandler = (request: SeenRequest, res: ServerResponse, req: IncomingMessage) => void | Promise<void>;

export interface TlsUpstream {
  readonly port: number;
  /** Every request so far, in arrival order. */
  readonly requests: readonly SeenRequest[];
  /** The SNI name of every TLS connection (false or null when the client sent none). */
  readonly servernames: readonly (string | false | null)[];
  /** TCP connections accepted so far. */
  connections(): number;
  /** The most requests matching `match` that were open at once. */
  peak(match: (request: SeenRequest) => boolean): number;
  /** Resolves with the time the next request matching `match` sees its connection close. */
  closed(match: (request: SeenRequest) => boolean): Promise<number>;
  close(): Promise<void>;
}

export async function startTlsUpstream(handler: UpstreamHandler, options: TlsUpstreamOptions = {}): Promise<TlsUpstream> {
  const requests: SeenRequest[] = [];
  const servernames: (string | false | null)[] = [];
  // Opening (+1) and closing (-1) of each request, in order: peaks are counted from this.
  const openings: { request: SeenRequest; delta: 1 | -1 }[] = [];
  const waiters: { match: (request: SeenRequest) => boolean; resolve: (at: number) => void }[] = [];
  const server: Server = createServer(options.certificate === 'untrusted' ? UNTRUSTED_TLS : SERVER_TLS, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const seen: SeenRequest = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(seen);
      openings.push({ request: seen, delta: 1 });
      res.on('close', () => {
        openings.push({ request: seen, delta: -1 });
        const at = Date.now();
        for (const waiter of waiters.filter((w) => w.match(seen))) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(at);
        }
      });
      void handler(seen, res, req);
    });
  });
  let connections = 0;
  server.on('connection', () => connections++);
  server.on('secureConnection', (socket: TLSSocket) => servernames.push(socket.servername));
  // Tests make clients give up mid-handshake on purpose.
  server.on('tlsClientError', () => undefined);
  server.listen(0, options.host ?? '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as { port: number }).port,
    requests,
    servernames,
    connections: () => connections,
    peak: (match) => {
      let open = 0;
      let most = 0;
      for (const { request, delta } of openings) {
        if (!match(request)) continue;
        open += delta;
        most = Math.max(most, open);
      }
      return most;
    },
    closed: (match) => new Promise((resolve) => waiters.push({ match, resolve })),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A port nothing listens on (connection refused). */
export async function closedPort(): Promise<number> {
  const server = createTcpServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

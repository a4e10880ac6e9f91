import { createHash, timingSafeEqual } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type OutgoingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo, isIPv4 } from 'node:net';
import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '#agentplane/config';
import { LOGGER, type Logger } from '#agentplane/logging';
import { Metrics } from './metrics.js';

/**
 * Serves `GET /metrics` on a listener of its own (AGENTPLANE_METRICS_PORT, on loopback unless
 * AGENTPLANE_METRICS_HOST says otherwise), so the API's port never does. With
 * AGENTPLANE_METRICS_TOKEN set, every request must carry it as a bearer token.
 */
@Injectable()
export class MetricsServer implements OnApplicationShutdown {
  private server: Server | undefined;

  constructor(
    private readonly metrics: Metrics,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Starts listening when metrics are configured: resolves with the address, or undefined when they are not. */
  async listen(): Promise<AddressInfo | undefined> {
    const settings = this.config.metrics;
    if (settings === null) return undefined;
    if (settings.token === null && !isLoopback(settings.host)) {
      this.logger.warn({ host: settings.host }, 'metrics listen beyond loopback without AGENTPLANE_METRICS_TOKEN');
    }
    const authorized = bearerCheck(settings.token);
    const server = createServer((req, res) => void this.answer(req, res, authorized));
    server.listen(settings.port, settings.host);
    // Rejects with the listen error (the port is taken, say).
    await once(server, 'listening');
    this.server = server;
    return server.address() as AddressInfo;
  }

  async onApplicationShutdown(): Promise<void> {
    const server = this.server;
    if (server === undefined) return;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    // A scrape still being answered would otherwise hold the shutdown (idle connections close with the server).
    server.closeAllConnections();
    await closed;
  }

  private async answer(req: IncomingMessage, res: ServerResponse, authorized: (header: string | undefined) => boolean): Promise<void> {
    if (!authorized(req.headers.authorization)) return send(res, 401, 'Unauthorized\n', { 'www-authenticate': 'Bearer' });
    if (req.url?.split('?', 1)[0] !== '/metrics') return send(res, 404, 'Not Found\n');
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'Method Not Allowed\n', { allow: 'GET, HEAD' });
    const registry = this.metrics.registry;
    try {
      send(res, 200, await registry.metrics(), { 'content-type': registry.contentType });
    } catch (error) {
      this.logger.error({ err: error }, 'metrics scrape failed');
      send(res, 500, 'Internal Server Error\n');
    }
  }
}

function send(res: ServerResponse, status: number, body: string, headers: OutgoingHttpHeaders = {}): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...headers }).end(body);
}

/** Everything passes without a token; with one, compared in constant time. */
function bearerCheck(token: string | null): (header: string | undefined) => boolean {
  if (token === null) return () => true;
  // Digests have one length, so the comparison tells nothing of the token's length either.
  const digest = (value: string): Buffer => createHash('sha256').update(value).digest();
  const expected = digest(token);
  return (header) => timingSafeEqual(digest(/^Bearer +(\S+) *$/i.exec(header ?? '')?.[1] ?? ''), expected);
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || (isIPv4(host) && host.startsWith('127.'));
}

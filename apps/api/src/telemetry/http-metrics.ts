import type { FastifyInstance } from 'fastify';
import type { Metrics } from '#agentplane/metrics';

/** The route label of a request no route matched: the raw URL would make one series per URL. */
export const UNMATCHED_ROUTE = 'unmatched';
/** The status label of a request whose caller left before an answer began (nginx's "client closed request"). */
const CALLER_LEFT = 499;

/**
 * Times every request into `metrics` by route template, method and status, once, when its
 * response closes: a finished answer, a problem, a 404, and a streamed reply (hijacked, so
 * Fastify's own onResponse hook would miss it when the caller leaves) until its end.
 */
export function timeRequests(fastify: FastifyInstance, metrics: Metrics): void {
  fastify.addHook('onRequest', (request, reply, done) => {
    // Timed here: Fastify keeps no start time when nothing of its own (a logger) asks for one.
    const started = performance.now();
    reply.raw.once('close', () => {
      const status = reply.raw.headersSent ? reply.statusCode : CALLER_LEFT;
      const route = request.is404 ? UNMATCHED_ROUTE : (request.routeOptions.url ?? UNMATCHED_ROUTE);
      metrics.observeHttp(route, request.method, status, (performance.now() - started) / 1000);
    });
    done();
  });
}

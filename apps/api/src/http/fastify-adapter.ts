import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { type FastifyReply, type FastifyRequest, LogController } from 'fastify';
import { CommonError, CommonErrorCode } from '#agentplane/errors';
import type { Logger } from '#agentplane/logging';
import { jsonDepthExceeds } from './json-depth.js';

/** Request bodies above this are refused with 413 before any handler runs. */
export const BODY_LIMIT_BYTES = 256 * 1024;
// How much of a refused body is read and thrown away so the client gets to read the answer.
const DRAIN_MAX_BYTES = 8 * 1024 * 1024;
const DRAIN_MAX_MS = 5_000;
/** Objects and arrays may nest this deep in a request body, the body itself included. */
export const MAX_JSON_DEPTH = 32;
const TOO_DEEP = `The JSON body nests objects and arrays deeper than ${MAX_JSON_DEPTH} levels.`;
const CALLER_REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/**
 * One log line per request, when it is answered, with what the request was: a line when it
 * arrives as well would double the logging every request pays for and say nothing the answer's
 * line does not (a streamed reply logs its own, see the replies controller).
 */
class OneLinePerRequest extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (error) reply.log.error({ req: request, res: reply, err: error, responseTime: reply.elapsedTime }, 'request errored');
    else reply.log.info({ req: request, res: reply, responseTime: reply.elapsedTime }, 'request completed');
  }
}

// Request ids come from a pool of random bytes filled a few kilobytes at a time: one call into
// the random generator per request was a visible share of a small request's time.
const ID_BYTES = 12;
const ID_POOL_BYTES = ID_BYTES * 512;
let idPool = Buffer.alloc(0);
let idOffset = 0;

function newRequestId(): string {
  if (idOffset + ID_BYTES > idPool.length) {
    idPool = randomBytes(ID_POOL_BYTES);
    idOffset = 0;
  }
  idOffset += ID_BYTES;
  return 'req_' + idPool.toString('base64url', idOffset - ID_BYTES, idOffset);
}

/**
 * Fastify with the process logger (so request logs share its redaction) and a request id per
 * request: the caller's `x-request-id` when it is short and plain, otherwise a fresh one.
 */
export function createFastifyAdapter(logger: Logger): FastifyAdapter {
  const adapter = new FastifyAdapter({
    loggerInstance: logger,
    bodyLimit: BODY_LIMIT_BYTES,
    logController: new OneLinePerRequest({ requestIdLogLabel: 'request_id' }),
    genReqId: (req: IncomingMessage) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && CALLER_REQUEST_ID.test(given) ? given : newRequestId();
    },
  });
  const fastify = adapter.getInstance();
  fastify.addHook('onRequest', async (request, reply) => {
    void reply.header('x-request-id', request.id);
  });
  fastify.addHook('onSend', async (request, reply) => {
    // A body refused before it was read (too large, unparseable, wrong type) is still arriving.
    // Answering and closing now resets the connection under the client's upload, so it sees
    // EPIPE instead of the answer: read and discard a bounded amount first.
    if (reply.statusCode < 400 || request.raw.complete) return;
    if (await drainRequest(request.raw, DRAIN_MAX_BYTES, DRAIN_MAX_MS)) {
      // Nothing more can arrive, so the connection is clean and may be kept alive.
      reply.removeHeader('connection');
    }
  });
  // JSON only: every other body (form, text) is refused with 415 by Fastify itself. The app is
  // created with Nest's body parsers off (create-app.ts), so nothing re-adds form parsing.
  fastify.removeAllContentTypeParsers();
  // `__proto__` is kept as JSON.parse keeps it, an own data property (no prototype is set): a
  // metadata key like any other, and elsewhere refused by the validation pipe as unknown.
  const parseJson = fastify.getDefaultJsonParser('ignore', 'error');
  // A merge patch (RFC 7396) is JSON under its own media type.
  const jsonTypes = ['application/json', 'application/merge-patch+json'];
  fastify.addContentTypeParser(jsonTypes, { parseAs: 'string', bodyLimit: BODY_LIMIT_BYTES }, (request, body, done) => {
    // Clients that send the JSON content type on every request (a DELETE, say) send no body.
    if (body === '') done(null, undefined);
    // Deep nesting costs every recursive step after parsing (validation, transformation) stack
    // and time; no request of this API needs more, so it is refused before the parse.
    else if (jsonDepthExceeds(body as string, MAX_JSON_DEPTH)) done(new CommonError(CommonErrorCode.ValidationFailed, TOO_DEEP), undefined);
    else void parseJson(request, body as string, done);
  });
  return adapter;
}

/**
 * Reads and discards the rest of a request body. True when it ended; false when it was longer
 * than `maxBytes`, took longer than `maxMs` or failed (the connection is then closed after the
 * answer, as before).
 */
function drainRequest(raw: IncomingMessage, maxBytes: number, maxMs: number): Promise<boolean> {
  if (raw.destroyed) return Promise.resolve(false);
  return new Promise((resolve) => {
    let seen = 0;
    const finish = (ended: boolean): void => {
      clearTimeout(timer);
      raw.off('data', onData).off('end', onEnd).off('error', onFail).off('close', onFail);
      resolve(ended);
    };
    const onData = (chunk: Buffer): void => {
      seen += chunk.length;
      if (seen > maxBytes) finish(false);
    };
    const onEnd = (): void => finish(true);
    const onFail = (): void => finish(false);
    const timer = setTimeout(onFail, maxMs);
    raw.on('data', onData).once('end', onEnd).once('error', onFail).once('close', onFail);
    raw.resume();
  });
}

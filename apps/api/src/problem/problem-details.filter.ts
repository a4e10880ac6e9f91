import { type ArgumentsHost, Catch, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CommonErrorCode } from '#agentplane/errors';
import { ConnectionTestError } from '#agentplane/runtime';
import { PROBLEM_CONTENT_TYPE, toProblem } from './problem-details.js';

const RETRY_AFTER_SECONDS = '1';

/**
 * The one exception filter: every error leaves as application/problem+json. Nest also installs
 * it as Fastify's error handler, so errors raised before a route runs (an unparseable or
 * oversized body) take the same path.
 */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    const problem = toProblem(exception, String(request.id));
    if (problem.status >= 500) {
      request.log.error({ err: exception }, 'request failed');
    } else {
      request.log.info({ code: problem.code, status: problem.status }, 'request rejected');
    }
    if (problem.status === 401) void reply.header('www-authenticate', 'Bearer');
    // An unavailable database is worth a retry, soon: say when, so clients back off alike.
    if (problem.code === CommonErrorCode.DatabaseUnavailable) void reply.header('retry-after', RETRY_AFTER_SECONDS);
    if (exception instanceof ConnectionTestError) void reply.header('retry-after', String(exception.retryAfterSeconds));
    void reply.status(problem.status).header('content-type', PROBLEM_CONTENT_TYPE).send(problem);
  }
}

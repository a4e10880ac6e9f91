import { NotFoundException, PayloadTooLargeException } from '@nestjs/common';
import { Prisma } from '#agentplane/db';
import { DomainError } from '#agentplane/errors';
import { ERROR_CODES } from './error-statuses.js';
import { describe as describeCode, toProblem } from './problem-details.js';

describe('toProblem', () => {
  it('maps every error code to a status', () => {
    for (const code of ERROR_CODES) {
      const { status, title } = describeCode(code);
      expect(status).toBeGreaterThanOrEqual(400);
      expect(title).not.toBe('');
    }
  });

  it('carries a domain error with its field errors', () => {
    const problem = toProblem(
      DomainError.validation([{ path: 'llm[0].base_url', code: 'https_required', message: 'must use https' }]),
      'req_1',
    );
    expect(problem).toEqual({
      type: 'https://agentplane.dev/problems/validation_failed',
      title: 'Invalid request',
      status: 422,
      detail: 'The request is invalid.',
      code: 'validation_failed',
      request_id: 'req_1',
      errors: [{ path: 'llm[0].base_url', code: 'https_required', message: 'must use https' }],
    });
  });

  it('gives framework 4xx errors a generic detail', () => {
    expect(toProblem(new NotFoundException('Cannot GET /secret-path'), 'r')).toMatchObject({
      status: 404,
      code: 'not_found',
      detail: 'No such route.',
    });
    expect(toProblem(new PayloadTooLargeException(), 'r')).toMatchObject({ status: 413, code: 'payload_too_large' });
    const fastifyError = Object.assign(new Error('Unsupported Media Type: application/xml'), {
      statusCode: 415,
      code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE',
    });
    expect(toProblem(fastifyError, 'r')).toMatchObject({ status: 415, code: 'unsupported_media_type' });
  });

  it('maps only errors the framework raised, not anything carrying a 4xx statusCode', () => {
    // A library error (an HTTP client's, say) with a 4xx status is our failure, not the caller's:
    // it must not go out as "404 No such route" or any other framework answer.
    for (const statusCode of [400, 401, 404, 413]) {
      const foreign = Object.assign(new Error('upstream said 404 for postgres://admin:hunter2@db'), { statusCode });
      const problem = toProblem(foreign, 'req_9');
      expect(problem).toMatchObject({ status: 500, code: 'internal_error' });
      expect(JSON.stringify(problem)).not.toContain('hunter2');
    }
    expect(toProblem(Object.assign(new Error('x'), { statusCode: 404, code: 'ENOTFOUND' }), 'r').status).toBe(500);
    expect(toProblem({ statusCode: 400 }, 'r').status).toBe(500);
    // Fastify's own errors carry an FST_ code.
    const tooLarge = Object.assign(new Error('Request body is too large'), { statusCode: 413, code: 'FST_ERR_CTP_BODY_TOO_LARGE' });
    expect(toProblem(tooLarge, 'r')).toMatchObject({ status: 413, code: 'payload_too_large' });
  });

  it('answers unknown errors with 500, the request id and nothing else', () => {
    const problem = toProblem(new Error('connection to postgres://admin:hunter2@db failed'), 'req_42');
    expect(problem).toMatchObject({ status: 500, code: 'internal_error', title: 'Internal Server Error' });
    expect(problem.detail).toContain('req_42');
    expect(JSON.stringify(problem)).not.toContain('hunter2');
    // Something that only looks like an HTTP error is still unknown: only the framework's own are mapped.
    expect(toProblem(Object.assign(new Error('x'), { statusCode: 502 }), 'r').status).toBe(500);
    expect(toProblem(Object.assign(new Error('Cannot GET /x'), { statusCode: 404 }), 'r')).toMatchObject({
      status: 500,
      code: 'internal_error',
    });
    expect(toProblem(Object.assign(new Error('x'), { statusCode: 400, code: 'ERR_SOMETHING' }), 'r').status).toBe(500);
    expect(toProblem('a string', 'r').status).toBe(500);
    expect(toProblem(null, 'r').status).toBe(500);
  });

  it('answers an unreachable or exhausted database with 503 database_unavailable, saying nothing of it', () => {
    for (const code of ['P1001', 'P2024', 'P2028']) {
      const error = new Prisma.PrismaClientKnownRequestError('Transaction already closed: postgres://admin:hunter2@db', {
        code,
        clientVersion: 'test',
      });
      const problem = toProblem(error, 'req_7');
      expect(problem).toMatchObject({ status: 503, code: 'database_unavailable' });
      expect(JSON.stringify(problem)).not.toContain('hunter2');
    }
    // A query the database refused (unique violation) is not an outage.
    const conflict = new Prisma.PrismaClientKnownRequestError('Unique constraint failed', { code: 'P2002', clientVersion: 'test' });
    expect(toProblem(conflict, 'r').status).toBe(500);
  });
});

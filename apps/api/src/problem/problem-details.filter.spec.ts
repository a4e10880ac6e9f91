import type { ArgumentsHost } from '@nestjs/common';
import { CommonError, CommonErrorCode, DomainError } from '#agentplane/errors';
import { ProblemDetailsFilter } from './problem-details.filter.js';

function caught(exception: unknown): { status: number; headers: Record<string, string>; body: Record<string, unknown> } {
  const sent = { status: 0, headers: {} as Record<string, string>, body: {} as Record<string, unknown> };
  const reply = {
    header(name: string, value: string) {
      sent.headers[name] = value;
      return reply;
    },
    status(code: number) {
      sent.status = code;
      return reply;
    },
    send(body: Record<string, unknown>) {
      sent.body = body;
      return reply;
    },
  };
  const request = { id: 'req_1', log: { error: () => undefined, info: () => undefined } };
  const host = { switchToHttp: () => ({ getRequest: () => request, getResponse: () => reply }) } as unknown as ArgumentsHost;
  new ProblemDetailsFilter().catch(exception, host);
  return sent;
}

describe('ProblemDetailsFilter', () => {
  it('answers a busy connection pool with 503 database_unavailable and Retry-After', () => {
    // What pg's pool raises (passed through by Prisma's driver adapter) when every connection
    // stays busy for its connection timeout.
    const sent = caught(new Error('timeout exceeded when trying to connect'));
    expect(sent.status).toBe(503);
    expect(sent.body).toMatchObject({ code: 'database_unavailable' });
    expect(sent.headers['retry-after']).toBe('1');
  });

  it('sends Retry-After with every database_unavailable, and not with other errors', () => {
    expect(caught(new CommonError(CommonErrorCode.DatabaseUnavailable, 'x')).headers['retry-after']).toBe('1');
    expect(caught(new Error('boom')).headers['retry-after']).toBeUndefined();
    expect(caught(DomainError.notFound('Agent')).headers['retry-after']).toBeUndefined();
  });
});

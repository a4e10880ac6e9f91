import { STATUS_CODES } from 'node:http';
import { HttpException } from '@nestjs/common';
import { isDatabaseUnavailable } from '#agentplane/db';
import { CommonErrorCode, DomainError, type FieldError } from '#agentplane/errors';
import { RuntimeError } from '#agentplane/runtime';
import { ERROR_STATUSES, type ErrorCode, type ErrorStatus, HttpErrorCode, isErrorCode } from './error-statuses.js';

/** RFC 9457 problem details, with the stable `code` and the request id as extension members. */
export interface ProblemDetails {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly code: ErrorCode;
  readonly request_id: string;
  readonly errors?: readonly FieldError[];
  /** For `upstream_status`: the HTTP status the upstream answered. */
  readonly upstream_status?: number;
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json; charset=utf-8';
const TYPE_BASE = 'https://agentplane.dev/problems/';

/** The status and title of a code (see ERROR_STATUSES). */
export function describe(code: ErrorCode): ErrorStatus {
  return ERROR_STATUSES[code];
}

// Errors raised by Fastify itself (body parsing, limits) before a route runs: all carry an
// `FST_` code. Other libraries set `statusCode` too (HTTP clients, for an upstream's answer), and
// those are our failures, not the caller's.
interface FrameworkError {
  readonly statusCode: number;
  readonly code: string;
}

const FRAMEWORK_CODES: Readonly<Record<number, ErrorCode>> = {
  400: HttpErrorCode.BadRequest,
  404: CommonErrorCode.NotFound,
  405: HttpErrorCode.MethodNotAllowed,
  406: HttpErrorCode.NotAcceptable,
  413: HttpErrorCode.PayloadTooLarge,
  415: HttpErrorCode.UnsupportedMediaType,
  429: HttpErrorCode.TooManyRequests,
};

/**
 * Turns anything thrown into a problem. Only our own errors carry their detail to the caller;
 * framework errors get a generic one, and anything unknown is a 500 that says nothing but the
 * request id (the log has the rest).
 */
export function toProblem(exception: unknown, requestId: string): ProblemDetails {
  if (isDatabaseUnavailable(exception)) {
    // Not the caller's fault and worth a retry: a 503, not an opaque 500.
    return problem(CommonErrorCode.DatabaseUnavailable, 'The database is unavailable; retry shortly.', requestId);
  }
  const code: unknown = exception instanceof DomainError ? exception.code : undefined;
  if (exception instanceof DomainError && typeof code === 'string' && isErrorCode(code)) {
    return {
      ...problem(code, exception.detail, requestId),
      ...(exception.errors === undefined ? {} : { errors: exception.errors }),
      ...(exception instanceof RuntimeError && exception.upstreamStatus !== undefined ? { upstream_status: exception.upstreamStatus } : {}),
    };
  }
  const status = frameworkStatus(exception);
  if (status !== undefined && status >= 400 && status < 500) {
    const code = FRAMEWORK_CODES[status];
    if (code !== undefined) return problem(code, genericDetail(status, describe(code).title), requestId);
    const title = STATUS_CODES[status] ?? 'Client error';
    return { type: TYPE_BASE + 'bad_request', title, status, detail: `${title}.`, code: HttpErrorCode.BadRequest, request_id: requestId };
  }
  return problem(
    CommonErrorCode.InternalError,
    `An unexpected error occurred. Quote request id ${requestId} when reporting it.`,
    requestId,
  );
}

function problem(code: ErrorCode, detail: string | undefined, requestId: string): ProblemDetails {
  const { status, title } = describe(code);
  return { type: TYPE_BASE + code, title, status, detail: detail ?? title, code, request_id: requestId };
}

/**
 * The status of an error the framework raised: Nest's HttpException, or one of Fastify's own
 * (`FST_…` codes). Anything else that merely carries a `statusCode` is not trusted with one.
 */
function frameworkStatus(exception: unknown): number | undefined {
  if (exception instanceof HttpException) return exception.getStatus();
  if (!(exception instanceof Error)) return undefined;
  const candidate = exception as Partial<FrameworkError>;
  const fromFastify = typeof candidate.code === 'string' && candidate.code.startsWith('FST_');
  return fromFastify && typeof candidate.statusCode === 'number' ? candidate.statusCode : undefined;
}

function genericDetail(status: number, title: string): string {
  switch (status) {
    case 400:
      return 'The request body could not be parsed.';
    case 404:
      return 'No such route.';
    case 413:
      return 'The request body is too large.';
    case 415:
      return 'Send the body as application/json.';
    default:
      return title + '.';
  }
}

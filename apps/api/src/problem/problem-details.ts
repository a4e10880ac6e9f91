import { STATUS_CODES } from 'node:http';
import { HttpException } from '@nestjs/common';
import { isDatabaseUnavailable } from '@agentplane/db';
import { DomainError, ErrorCode, type FieldError } from '@agentplane/errors';

/** RFC 9457 problem details, with the stable `code` and the request id as extension members. */
export interface ProblemDetails {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly code: string;
  readonly request_id: string;
  readonly errors?: readonly FieldError[];
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json; charset=utf-8';
const TYPE_BASE = 'https://agentplane.dev/problems/';

/** The one place a code becomes an HTTP status: the `never` check makes it exhaustive. */
export function describe(code: ErrorCode): { status: number; title: string } {
  switch (code) {
    case ErrorCode.Unauthenticated:
      return { status: 401, title: 'Unauthenticated' };
    case ErrorCode.NotFound:
      return { status: 404, title: 'Not found' };
    case ErrorCode.ValidationFailed:
      return { status: 422, title: 'Invalid request' };
    case ErrorCode.DatabaseUnavailable:
      return { status: 503, title: 'Database unavailable' };
    case ErrorCode.InvalidCursor:
      return { status: 400, title: 'Invalid cursor' };
    case ErrorCode.MaskedValueSubmitted:
      return { status: 422, title: 'Masked value submitted' };
    case ErrorCode.ApiKeyRequired:
      return { status: 422, title: 'API key required' };
    case ErrorCode.CredentialInUse:
      return { status: 409, title: 'Credential in use' };
    case ErrorCode.CredentialOriginNotAllowed:
      return { status: 422, title: 'Origin not allowed for this credential' };
    case ErrorCode.CredentialOriginMismatch:
      return { status: 422, title: 'Credential not allowed for this origin' };
    case ErrorCode.PreconditionFailed:
      return { status: 412, title: 'Precondition failed' };
    case ErrorCode.IdempotencyKeyReused:
      return { status: 422, title: 'Idempotency key reused' };
    case ErrorCode.UpstreamFailed:
      return { status: 502, title: 'Upstream failed' };
    case ErrorCode.CredentialUnavailable:
      return { status: 500, title: 'Credential unavailable' };
    default: {
      const unmapped: never = code;
      throw new Error(`No HTTP mapping for error code ${String(unmapped)}`);
    }
  }
}

// Errors raised by Fastify itself (body parsing, limits) before a route runs: all carry an
// `FST_` code. Other libraries set `statusCode` too (HTTP clients, for an upstream's answer), and
// those are our failures, not the caller's.
interface FrameworkError {
  readonly statusCode: number;
  readonly code: string;
}

const FRAMEWORK_CODES: Readonly<Record<number, string>> = {
  400: 'bad_request',
  404: 'not_found',
  405: 'method_not_allowed',
  406: 'not_acceptable',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'too_many_requests',
};

/**
 * Turns anything thrown into a problem. Only our own errors carry their detail to the caller;
 * framework errors get a generic one, and anything unknown is a 500 that says nothing but the
 * request id (the log has the rest).
 */
export function toProblem(exception: unknown, requestId: string): ProblemDetails {
  if (isDatabaseUnavailable(exception)) {
    // Not the caller's fault and worth a retry: a 503, not an opaque 500.
    return toProblem(new DomainError(ErrorCode.DatabaseUnavailable, 'The database is unavailable; retry shortly.'), requestId);
  }
  if (exception instanceof DomainError) {
    const { status, title } = describe(exception.code);
    return {
      type: TYPE_BASE + exception.code,
      title,
      status,
      detail: exception.detail ?? title,
      code: exception.code,
      request_id: requestId,
      ...(exception.errors === undefined ? {} : { errors: exception.errors }),
    };
  }
  const status = exception instanceof HttpException ? exception.getStatus() : frameworkStatus(exception);
  if (status !== undefined && status >= 400 && status < 500) {
    const code = FRAMEWORK_CODES[status] ?? `http_${status}`;
    const title = STATUS_CODES[status] ?? 'Client error';
    return { type: TYPE_BASE + code, title, status, detail: genericDetail(status, title), code, request_id: requestId };
  }
  return {
    type: TYPE_BASE + 'internal_error',
    title: 'Internal Server Error',
    status: 500,
    detail: `An unexpected error occurred. Quote request id ${requestId} when reporting it.`,
    code: 'internal_error',
    request_id: requestId,
  };
}

function frameworkStatus(exception: unknown): number | undefined {
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

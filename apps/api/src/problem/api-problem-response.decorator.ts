import { applyDecorators } from '@nestjs/common';
import { ApiExtraModels, ApiResponse, getSchemaPath } from '@nestjs/swagger';
import { RuntimeErrorCode } from '#agentplane/runtime';
import { ERROR_STATUSES, type ErrorCode } from './error-statuses.js';
import { ProblemDetailsDto } from './problem-details.dto.js';

const TYPE_BASE = 'https://agentplane.dev/problems/';
const EXAMPLE_REQUEST_ID = 'req_Q2xKt7m1Vb9sXy3dLp0a';

/**
 * What an example problem body shows beyond what its code decides (status and title come from
 * ERROR_STATUSES, as the filter takes them): the same members the filter sends.
 */
export interface ProblemExample {
  readonly code: `${ErrorCode}`;
  readonly detail: string;
  readonly errors?: readonly { path: string; code: string; message: string }[];
  readonly upstream_status?: number;
}

/** Example problems, written as the filter sends them, so Swagger UI shows a real body per status. */
export const PROBLEMS = {
  badRequest: { code: 'bad_request', detail: 'The request body could not be parsed.' },
  unauthenticated: { code: 'unauthenticated', detail: 'A valid API key is required.' },
  lastActiveApiKey: {
    code: 'last_active_api_key',
    detail: 'This is the organization’s last active API key: create another before revoking it (the operator CLI can still revoke it).',
  },
  credentialInUse: {
    code: 'credential_in_use',
    detail: 'The credential is in use. Remove it from what uses it first, or delete with force=true to remove those uses too.',
  },
  preconditionFailed: {
    code: 'precondition_failed',
    detail: 'The agent changed since that ETag: read it again and reapply the change.',
  },
  payloadTooLarge: { code: 'payload_too_large', detail: 'The request body is too large.' },
  unsupportedMediaType: { code: 'unsupported_media_type', detail: 'Send the body as application/json.' },
  idempotencyKeyInProgress: {
    code: 'idempotency_key_in_progress',
    detail: 'A request with this Idempotency-Key is still being processed; retry shortly.',
  },
  invalidCursor: { code: 'invalid_cursor', detail: 'The cursor is not one this API issued.' },
  internal: {
    code: 'internal_error',
    detail: `An unexpected error occurred. Quote request id ${EXAMPLE_REQUEST_ID} when reporting it.`,
  },
  noLlmConfigured: {
    code: RuntimeErrorCode.NoLlmConfigured,
    detail: 'The agent has no llm entries: add one to get replies.',
  },
  upstreamStatus: {
    code: RuntimeErrorCode.Status,
    detail: 'The upstream answered 500.',
    upstream_status: 500,
  },
  upstreamTimeout: {
    code: RuntimeErrorCode.FirstTokenTimeout,
    detail: 'No token arrived from the upstream in time.',
  },
  testsRateLimited: {
    code: 'rate_limited',
    detail: 'At most 10 entries may be tested every 60 s: try again in 42 s.',
  },
  databaseUnavailable: {
    code: 'database_unavailable',
    detail: 'The database is unavailable; retry shortly.',
  },
} satisfies Record<string, ProblemExample>;

/** A 404 example, as DomainError.notFound words it. */
export function notFound(resource: string): ProblemExample {
  return { code: 'not_found', detail: `${resource} not found.` };
}

/** A 422 validation_failed example naming one field, as the validation pipe reports it. */
export function invalid(path: string, code: string, message: string): ProblemExample {
  return { code: 'validation_failed', detail: 'The request is invalid.', errors: [{ path, code, message }] };
}

/** A 422 whose code is more specific than validation_failed (the field error carries the same code). */
export function refused(code: ProblemExample['code'], detail: string, path: string, message: string): ProblemExample {
  return { code, detail, errors: [{ path, code, message }] };
}

/**
 * Documents an error response as application/problem+json, the way the filter sends it, with one
 * example body per listed problem (several when one status has distinct causes).
 */
export function ApiProblemResponse(status: number, description: string, ...examples: ProblemExample[]): MethodDecorator & ClassDecorator {
  const bodies = examples.map((example) => ({
    type: TYPE_BASE + example.code,
    title: ERROR_STATUSES[example.code].title,
    status,
    detail: example.detail,
    code: example.code,
    request_id: EXAMPLE_REQUEST_ID,
    ...(example.errors === undefined ? {} : { errors: example.errors }),
    ...(example.upstream_status === undefined ? {} : { upstream_status: example.upstream_status }),
  }));
  const content =
    bodies.length === 1
      ? { schema: { $ref: getSchemaPath(ProblemDetailsDto) }, example: bodies[0] }
      : {
          schema: { $ref: getSchemaPath(ProblemDetailsDto) },
          ...(bodies.length === 0
            ? {}
            : { examples: Object.fromEntries(bodies.map((body) => [body.code, { summary: body.title, value: body }])) }),
        };
  return applyDecorators(
    ApiExtraModels(ProblemDetailsDto),
    ApiResponse({ status, description, content: { 'application/problem+json': content } }),
  );
}

/**
 * What every route behind the API-key guard can answer besides its own errors; declared once on
 * each controller. The guard reads the database, so 503 applies to every route too.
 */
export function ApiAuthenticatedProblems(): ClassDecorator & MethodDecorator {
  return applyDecorators(
    ApiProblemResponse(401, 'Missing, unknown or revoked API key', PROBLEMS.unauthenticated),
    ApiProblemResponse(500, 'Unexpected failure; the detail names the request id to quote', PROBLEMS.internal),
    ApiProblemResponse(503, 'The database does not answer; retry shortly', PROBLEMS.databaseUnavailable),
  );
}

/** What Fastify answers for a JSON body before the route runs: every route that takes one. */
export function ApiJsonBodyProblems(): MethodDecorator {
  return applyDecorators(
    ApiProblemResponse(400, 'Malformed JSON', PROBLEMS.badRequest),
    ApiProblemResponse(413, 'Body over 256 KB', PROBLEMS.payloadTooLarge),
    ApiProblemResponse(415, 'Body is not application/json', PROBLEMS.unsupportedMediaType),
  );
}

/** What every list route (`?limit=&after=`) answers for a bad page request. */
export function ApiListProblems(): MethodDecorator {
  return applyDecorators(
    ApiProblemResponse(400, 'Invalid cursor', PROBLEMS.invalidCursor),
    ApiProblemResponse(422, 'Invalid limit', invalid('limit', 'max', 'must not be greater than 100')),
  );
}

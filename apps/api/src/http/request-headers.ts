import type { EtagCondition } from '#agentplane/db';
import { DomainError } from '#agentplane/errors';
import type { IdempotentRequest } from '#agentplane/idempotency';
import { canonicalJson } from './canonical-json.js';

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;
const ENTITY_TAG = /^(W\/)?"[\x21\x23-\x7e\x80-\xff]*"$/;

/**
 * `If-Match` as the domain takes it: `*`, or the strong entity tags listed. A weak tag never
 * matches under the strong comparison the header requires, and neither does anything that is not
 * an entity tag: both are left out, so a list of only those fails the precondition (412).
 * Undefined when the header is absent.
 */
export function parseIfMatch(header: string | undefined): EtagCondition | undefined {
  if (header === undefined) return undefined;
  const trimmed = header.trim();
  if (trimmed === '*') return '*';
  return trimmed
    .split(',')
    .map((tag) => tag.trim())
    .filter((tag) => ENTITY_TAG.test(tag) && !tag.startsWith('W/'));
}

/**
 * `Idempotency-Key` with the request it protects: the method, the path and the body as sent (keys
 * sorted, before defaults), so "the same request" means what the client sent. Undefined when absent.
 */
export function parseIdempotencyKey(
  header: string | undefined,
  method: string,
  path: string,
  body: unknown,
): IdempotentRequest | undefined {
  if (header === undefined) return undefined;
  if (!IDEMPOTENCY_KEY.test(header)) {
    throw DomainError.validation([
      { path: 'Idempotency-Key', code: 'invalid_idempotency_key', message: 'must be 1 to 255 visible ASCII characters' },
    ]);
  }
  return { key: header, request: `${method} ${path} ${canonicalJson(body)}` };
}

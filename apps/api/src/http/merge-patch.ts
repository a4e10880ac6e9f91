import type { Type } from '@nestjs/common';
import { DomainError } from '#agentplane/errors';
import { createValidationPipe } from '../problem/validation.js';

const validation = createValidationPipe();

/**
 * A merge patch applied to a resource as a read shows it (`representation`), then validated as a
 * whole request body of `metatype`: members present replace, `null` removes (back to the default),
 * arrays replace whole. Secrets are not in a read, so what the patch leaves as it was keeps them
 * under the same rule as a PUT.
 */
export async function patchedBody<T extends object>(representation: unknown, patch: unknown, metatype: Type<T>): Promise<T> {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) {
    throw DomainError.validation([{ path: '', code: 'is_object', message: 'must be a JSON object (a merge patch)' }]);
  }
  const document = applyMergePatch(JSON.parse(JSON.stringify(representation)), patch);
  return (await validation.transform(document, { type: 'body', metatype, data: undefined })) as T;
}

/**
 * RFC 7396 JSON Merge Patch: members of `patch` replace those of `target`, `null` removes one,
 * objects merge recursively, anything else (arrays included) replaces whole. Neither input is
 * changed.
 *
 * Written here rather than taken from json-merge-patch: that package stops applying a patch at a
 * key named `constructor` or `__proto__`, silently, and such keys are data in this API (metadata
 * and variables may use them; the validation pipe decides). Here every key is an own data
 * property, so no key can reach a prototype.
 */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return patch;
  const result: Record<string, unknown> = isObject(target) ? copy(target) : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) {
      delete result[key];
    } else {
      const merged = applyMergePatch(Object.hasOwn(result, key) ? result[key] : undefined, value);
      Object.defineProperty(result, key, { value: merged, enumerable: true, writable: true, configurable: true });
    }
  }
  return result;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function copy(value: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

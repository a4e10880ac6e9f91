import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { FieldError } from '#agentplane/errors';
import { fieldPath } from './json-path.js';

export const INVALID_JSON_SCHEMA = 'invalid_json_schema';

// Draft-07 is Ajv's default and accepts keywords it does not know (so a schema written with
// `$defs` or `prefixItems` still passes), which is what providers' function calling accepts.
const DRAFT_07 = 'http://json-schema.org/draft-07/schema';

function validRegex(source: string): boolean {
  try {
    new RegExp(source, 'u');
    return true;
  } catch {
    return false;
  }
}

const ajv = new Ajv({ strict: false, logger: false, allErrors: false, formats: { regex: validRegex, uri: true, 'uri-reference': true } });
// Ajv skips formats when it validates against a registered meta-schema; compiled as an ordinary
// schema, `pattern` and `patternProperties` keys are checked to be regular expressions too. A
// schema's own `$schema` is not followed: every schema is checked as draft-07.
const metaSchema = ajv.getSchema(DRAFT_07)!.schema as object;
const checkMetaSchema: ValidateFunction = ajv.compile({ ...metaSchema, $id: 'agentplane:json-schema-draft-07' });

/**
 * Why `schema` is not a JSON Schema for a function's parameters, as field errors under `path`:
 * the meta-schema's deepest complaint (at the member it is about), or a top level that is not
 * `type: "object"` (function-calling APIs require one). Empty when it is fine.
 */
export function jsonSchemaErrors(schema: unknown, path: string): FieldError[] {
  if (!checkMetaSchema(schema)) {
    const error = deepest(checkMetaSchema.errors ?? []);
    return [{ path: fieldPath(path, schema, error.instancePath), code: INVALID_JSON_SCHEMA, message: describe(error) }];
  }
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema) || (schema as { type?: unknown }).type !== 'object') {
    return [{ path: `${path}.type`, code: INVALID_JSON_SCHEMA, message: 'must be "object": function parameters are an object' }];
  }
  return [];
}

// anyOf reports every branch; the failure furthest down is the one a fix is about.
function deepest(errors: readonly ErrorObject[]): ErrorObject {
  return errors.reduce((best, e) => (e.instancePath.split('/').length > best.instancePath.split('/').length ? e : best), errors[0]!);
}

function describe(error: ErrorObject): string {
  const allowed = (error.params as { allowedValues?: unknown[] }).allowedValues;
  const message = error.message ?? 'is invalid';
  return allowed === undefined ? message : `${message}: ${allowed.map((v) => JSON.stringify(v)).join(', ')}`;
}

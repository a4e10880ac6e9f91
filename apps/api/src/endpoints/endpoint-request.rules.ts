import { AUTH_HEADER, CREDENTIAL_HEADERS, DEFAULT_AUTH, fieldPath, RESERVED_BODY_FIELDS, RESERVED_HEADERS } from '#agentplane/endpoints';
import type { FieldError } from '#agentplane/errors';
import { memberPath } from '../http/json-path.js';
import type { EndpointDto } from './endpoint-request.dto.js';

/**
 * The rules of an endpoint (an agent's inline llm entry, a provider) that look into free-form
 * values: extra_body clear of what the runtime sets for its api, headers clear of reserved and
 * duplicate names, credential headers sent as secrets. `path` is where the endpoint is (`''` or
 * `llm[0]`).
 */
export function endpointErrors(entry: EndpointDto, path: string): FieldError[] {
  const errors: FieldError[] = [];
  const api = entry.api ?? 'chat_completions';
  const auth = entry.auth ?? DEFAULT_AUTH[api];
  if (entry.extra_body !== undefined) {
    for (const key of Object.keys(entry.extra_body)) {
      if (RESERVED_BODY_FIELDS[api].includes(key)) {
        errors.push({
          path: memberPath(fieldPath(path, 'extra_body'), key),
          code: 'reserved_field',
          message: `is set by the runtime for api ${api}`,
        });
      }
    }
    errors.push(...protoKeyErrors(entry.extra_body, fieldPath(path, 'extra_body')));
  }
  const authHeader = AUTH_HEADER[auth];
  const names = new Map<string, number>();
  (entry.headers ?? []).forEach((header, h) => {
    const at = fieldPath(path, `headers[${h}].name`);
    const name = header.name.toLowerCase();
    const first = names.get(name);
    if (name === '__proto__') {
      errors.push({ path: at, code: 'reserved_header', message: 'is not a header name this API can send' });
    } else if (RESERVED_HEADERS.has(name)) {
      errors.push({ path: at, code: 'reserved_header', message: 'is set by the runtime or the connection' });
    } else if (name === authHeader) {
      errors.push({ path: at, code: 'reserved_header', message: `carries the key for auth ${auth}` });
    } else if (first !== undefined) {
      errors.push({ path: at, code: 'duplicate_header', message: `is also the name of headers[${first}]` });
    }
    if (first === undefined) names.set(name, h);
    // A name refused already says what to change; the value is judged once the name is right.
    const named = errors.some((e) => e.path === at);
    if (!named && CREDENTIAL_HEADERS.has(name) && header.value !== undefined) {
      errors.push({
        path: fieldPath(path, `headers[${h}].value`),
        code: 'secret_value_required',
        message: 'carries a credential: send it as secret_value, which is stored sealed and never shown again',
      });
    }
  });
  return errors;
}

/**
 * `__proto__` members anywhere in a free-form object: refused, as in metadata, because a JSON
 * column read back drops them, and assigning one into a body object would set its prototype.
 */
export function protoKeyErrors(value: unknown, path: string): FieldError[] {
  if (Array.isArray(value)) return value.flatMap((item, i) => protoKeyErrors(item, `${path}[${i}]`));
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, member]) =>
    key === '__proto__'
      ? [
          {
            path: memberPath(path, key),
            code: 'forbidden_key',
            message: 'is refused: a __proto__ member survives neither storage nor merging',
          },
        ]
      : protoKeyErrors(member, memberPath(path, key)),
  );
}

import type { FieldError } from '#agentplane/errors';
import { memberPath } from '../http/json-path.js';
import { jsonSchemaErrors } from '../http/json-schema.js';
import { variableErrors } from '../http/variables.js';
import { AUTH_HEADER, CREDENTIAL_HEADERS, DEFAULT_AUTH, RESERVED_BODY_FIELDS, RESERVED_HEADERS } from '#agentplane/endpoints';
import type { AgentRequestDto, LlmEntryDto } from './agent-request.dto.js';

/**
 * The rules of an agent body that look across fields or into free-form values, for a body the
 * validation pipe already accepted (so every value has its declared type): names unique, JSON
 * Schemas valid, language tags real, extra bodies and headers clear of what the runtime sets.
 * Paths name the exact member, like `tools[1].parameters.properties.x.type`.
 */
export function agentRequestErrors(body: AgentRequestDto): FieldError[] {
  const errors: FieldError[] = [];
  const toolNames = new Map<string, number>();
  (body.tools ?? []).forEach((tool, i) => {
    const first = toolNames.get(tool.name);
    if (first === undefined) toolNames.set(tool.name, i);
    else errors.push({ path: `tools[${i}].name`, code: 'duplicate_name', message: `is also the name of tools[${first}]` });
    if (tool.parameters !== undefined) {
      const path = `tools[${i}].parameters`;
      const proto = protoKeyErrors(tool.parameters, path);
      errors.push(...(proto.length > 0 ? proto : jsonSchemaErrors(tool.parameters, path)));
    }
  });
  errors.push(...variableErrors(body.variables ?? {}));
  errors.push(...languageErrors(body.system_tools?.language_detection?.languages ?? []));
  (body.llm ?? []).forEach((entry, i) => errors.push(...entryErrors(entry, `llm[${i}]`)));
  return errors;
}

function languageErrors(languages: readonly string[]): FieldError[] {
  const errors: FieldError[] = [];
  const seen = new Map<string, number>();
  languages.forEach((tag, i) => {
    const path = `system_tools.language_detection.languages[${i}]`;
    const canonical = canonicalLocale(tag);
    if (canonical === undefined) {
      errors.push({ path, code: 'invalid_language_tag', message: 'must be a BCP 47 language tag, like en-US' });
      return;
    }
    const first = seen.get(canonical);
    if (first === undefined) seen.set(canonical, i);
    else errors.push({ path, code: 'duplicate_language', message: `is the same language as languages[${first}]` });
  });
  return errors;
}

function canonicalLocale(tag: string): string | undefined {
  try {
    return Intl.getCanonicalLocales(tag)[0];
  } catch {
    return undefined;
  }
}

function entryErrors(entry: LlmEntryDto, path: string): FieldError[] {
  const errors: FieldError[] = [];
  const api = entry.api ?? 'chat_completions';
  const auth = entry.auth ?? DEFAULT_AUTH[api];
  if (entry.extra_body !== undefined) {
    for (const key of Object.keys(entry.extra_body)) {
      if (RESERVED_BODY_FIELDS[api].includes(key)) {
        errors.push({
          path: memberPath(`${path}.extra_body`, key),
          code: 'reserved_field',
          message: `is set by the runtime for api ${api}`,
        });
      }
    }
    errors.push(...protoKeyErrors(entry.extra_body, `${path}.extra_body`));
  }
  const authHeader = AUTH_HEADER[auth];
  const names = new Map<string, number>();
  (entry.headers ?? []).forEach((header, h) => {
    const at = `${path}.headers[${h}].name`;
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
        path: `${path}.headers[${h}].value`,
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
function protoKeyErrors(value: unknown, path: string): FieldError[] {
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

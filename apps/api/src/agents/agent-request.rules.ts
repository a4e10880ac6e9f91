import { fieldPath } from '#agentplane/endpoints';
import type { FieldError } from '#agentplane/errors';
import { jsonSchemaErrors } from '../http/json-schema.js';
import { variableErrors } from '../http/variables.js';
import { endpointErrors, protoKeyErrors } from '../endpoints/endpoint-request.rules.js';
import type { AgentRequestDto, LlmEntryDto } from './agent-request.dto.js';

/** What an entry that uses a provider may not set: the provider's endpoint is used whole. */
const ENDPOINT_FIELDS = ['base_url', 'api', 'azure', 'auth', 'api_key', 'credential_id', 'extra_body', 'headers'] as const;

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

/**
 * An entry that uses a provider sets only model and timeouts; any other entry is an endpoint.
 * `path` is where the entry is (`llm[0]`, or `''` for an entry that is the whole body).
 */
export function entryErrors(entry: LlmEntryDto, path: string): FieldError[] {
  if (entry.provider_id === undefined) return endpointErrors(entry, path);
  return ENDPOINT_FIELDS.filter((field) => entry[field] !== undefined).map((field) => ({
    path: fieldPath(path, field),
    code: 'not_allowed_with_provider',
    message: "must be absent with provider_id: the provider's settings are used",
  }));
}

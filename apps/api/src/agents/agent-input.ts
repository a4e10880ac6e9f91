import { type Agent, type AgentInput, type LlmEntryInput, systemToolsFromWire } from '#agentplane/agents';
import type { JsonObject } from '#agentplane/endpoints';
import { DomainError } from '#agentplane/errors';
import { applyMergePatch } from '../http/merge-patch.js';
import { createValidationPipe } from '../problem/validation.js';
import { toEndpointInput } from '../endpoints/endpoint-input.js';
import { AgentRequestDto, type LlmEntryDto } from './agent-request.dto.js';
import { agentRequestErrors } from './agent-request.rules.js';
import { AgentResponseDto } from './agent-response.dto.js';

const validation = createValidationPipe();

/**
 * A merge patch (RFC 7396) applied to the agent as a read shows it, then validated as a whole
 * request body: members present replace, `null` removes (back to the default), arrays replace
 * whole. Keys and secret header values are not in a read, so an llm entry or header the patch
 * leaves as it was keeps them under the same rule as a PUT.
 */
export async function patchedAgentInput(current: Agent, patch: unknown): Promise<AgentInput> {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) {
    throw DomainError.validation([{ path: '', code: 'is_object', message: 'must be a JSON object (a merge patch)' }]);
  }
  const document = applyMergePatch(JSON.parse(JSON.stringify(AgentResponseDto.from(current))), patch);
  const body = (await validation.transform(document, { type: 'body', metatype: AgentRequestDto, data: undefined })) as AgentRequestDto;
  return toAgentInput(body);
}

/**
 * The body as the service takes it, after the rules the pipe cannot check field by field. A
 * replacement is whole: what is left out goes back to its default.
 */
export function toAgentInput(body: AgentRequestDto): AgentInput {
  const errors = agentRequestErrors(body);
  if (errors.length > 0) throw DomainError.validation(errors);
  return {
    name: body.name,
    instructions: body.instructions ?? null,
    temperature: body.temperature ?? null,
    maxTokens: body.max_tokens ?? null,
    metadata: body.metadata ?? {},
    tools: (body.tools ?? []).map((tool) => ({
      name: tool.name,
      ...(tool.description === undefined ? {} : { description: tool.description }),
      ...(tool.parameters === undefined ? {} : { parameters: tool.parameters as JsonObject }),
    })),
    systemTools: systemToolsFromWire(body.system_tools ?? {}),
    forwardMetadata: body.forward_metadata ?? false,
    variables: body.variables ?? {},
    llm: (body.llm ?? []).map((entry) => toEntryInput(entry)),
  };
}

function toEntryInput(entry: LlmEntryDto): LlmEntryInput {
  const timeouts = entry.timeouts === undefined ? {} : { timeouts: withoutUndefined(entry.timeouts) };
  if (entry.provider_id !== undefined) return { providerId: entry.provider_id, model: entry.model, ...timeouts };
  return { ...toEndpointInput(entry), model: entry.model, ...timeouts };
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

import { type Agent, type AgentInput, type LlmEntryInput, systemToolsFromWire } from '#agentplane/agents';
import type { JsonObject } from '#agentplane/endpoints';
import { DomainError } from '#agentplane/errors';
import { patchedBody } from '../http/merge-patch.js';
import { toEndpointInput } from '../endpoints/endpoint-input.js';
import { AgentRequestDto, type LlmEntryDto } from './agent-request.dto.js';
import { agentRequestErrors } from './agent-request.rules.js';
import { AgentResponseDto } from './agent-response.dto.js';

/** A merge patch of the agent as a read shows it, validated as a whole body (see patchedBody). */
export async function patchedAgentInput(current: Agent, patch: unknown): Promise<AgentInput> {
  return toAgentInput(await patchedBody(AgentResponseDto.from(current), patch, AgentRequestDto));
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

/** An llm entry as the domain takes it: a provider's, or an endpoint of its own. */
export function toEntryInput(entry: LlmEntryDto): LlmEntryInput {
  const timeouts = entry.timeouts === undefined ? {} : { timeouts: withoutUndefined(entry.timeouts) };
  if (entry.provider_id !== undefined) return { providerId: entry.provider_id, model: entry.model, ...timeouts };
  return { ...toEndpointInput(entry), model: entry.model, ...timeouts };
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

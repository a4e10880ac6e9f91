import type { ToolDefinition } from '#agentplane/agents';
import { forwardedMetadata, functionOf, trimmed } from './chat-completions.request.js';
import type { ConversationMessage } from './reply.js';
import type { UpstreamCall, UpstreamInput } from './wire-format.js';

/** `POST {base_url}/responses`, the OpenAI Responses API; `extra_body` last, as for chat completions. */
export function responsesRequest(input: UpstreamInput): UpstreamCall {
  const { agent, entry, request, instructions, tools } = input;
  return {
    url: `${trimmed(entry.baseUrl)}/responses`,
    headers: {},
    body: JSON.stringify({
      model: entry.model,
      ...(instructions === null ? {} : { instructions }),
      input: request.messages.flatMap(toResponsesInput),
      stream: true,
      ...(agent.temperature === null ? {} : { temperature: agent.temperature }),
      ...(agent.maxTokens === null ? {} : { max_output_tokens: agent.maxTokens }),
      ...(tools.length === 0 ? {} : { tools: tools.map(toResponsesTool) }),
      ...(request.userId === undefined ? {} : { user: request.userId }),
      ...forwardedMetadata(input),
      ...entry.extraBody,
    }),
  };
}

// The Responses API makes a function strict unless told otherwise, which turns every optional
// parameter required and refuses schemas strict mode cannot take; chat completions never does.
function toResponsesTool(tool: ToolDefinition): Record<string, unknown> {
  return { type: 'function', ...functionOf(tool), strict: false };
}

function toResponsesInput(message: ConversationMessage): Record<string, unknown>[] {
  if (message.role === 'tool') {
    return [{ type: 'function_call_output', call_id: message.toolCallId ?? '', output: message.content ?? '' }];
  }
  const calls = (message.toolCalls ?? []).map((c) => ({ type: 'function_call', call_id: c.id, name: c.name, arguments: c.arguments }));
  const text = message.content === null || message.content === '' ? [] : [{ role: message.role, content: message.content }];
  return [...text, ...calls];
}

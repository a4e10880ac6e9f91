import type { ToolDefinition } from '#agentplane/agents';
import type { ConversationMessage } from './reply.js';
import type { UpstreamCall, UpstreamInput } from './wire-format.js';

/** `POST {base_url}/chat/completions`, the OpenAI Chat Completions API. */
export function chatCompletionsRequest(input: UpstreamInput): UpstreamCall {
  return { url: `${trimmed(input.entry.baseUrl)}/chat/completions`, headers: {}, body: chatCompletionsBody(input) };
}

/**
 * The Chat Completions body (also Azure OpenAI's). The entry's `extra_body` goes last, at the top
 * level: the keys written here are refused there at save.
 */
export function chatCompletionsBody(input: UpstreamInput): string {
  const { agent, entry, request, instructions, tools } = input;
  return JSON.stringify({
    model: entry.model,
    messages: [...(instructions === null ? [] : [{ role: 'system', content: instructions }]), ...request.messages.map(toChatMessage)],
    stream: true,
    stream_options: { include_usage: true },
    ...(agent.temperature === null ? {} : { temperature: agent.temperature }),
    ...(agent.maxTokens === null ? {} : { max_tokens: agent.maxTokens }),
    ...(tools.length === 0 ? {} : { tools: tools.map(toChatTool) }),
    ...(request.userId === undefined ? {} : { user: request.userId }),
    ...forwardedMetadata(input),
    ...entry.extraBody,
  });
}

/**
 * The reply's metadata as a top-level `extra_metadata`, for the OpenAI-style formats, only when the
 * agent says so: metadata is otherwise ours (logs, routing), not the provider's.
 */
export function forwardedMetadata({ agent, request }: Pick<UpstreamInput, 'agent' | 'request'>): {
  extra_metadata?: Record<string, string>;
} {
  return agent.forwardMetadata && Object.keys(request.metadata).length > 0 ? { extra_metadata: { ...request.metadata } } : {};
}

/** A base URL without its trailing slashes, for appending a path. */
export function trimmed(baseUrl: string): string {
  return baseUrl.replace(/\/+$/, '');
}

/** The OpenAI `function` object of a tool: name, then description and parameters when set. */
export function functionOf(tool: ToolDefinition): Record<string, unknown> {
  return {
    name: tool.name,
    ...(tool.description === undefined ? {} : { description: tool.description }),
    ...(tool.parameters === undefined ? {} : { parameters: tool.parameters }),
  };
}

function toChatTool(tool: ToolDefinition): Record<string, unknown> {
  return { type: 'function', function: functionOf(tool) };
}

function toChatMessage(message: ConversationMessage): Record<string, unknown> {
  return {
    role: message.role,
    content: message.content,
    ...(message.toolCallId === undefined ? {} : { tool_call_id: message.toolCallId }),
    ...(message.toolCalls === undefined || message.toolCalls.length === 0
      ? {}
      : { tool_calls: message.toolCalls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments } })) }),
  };
}

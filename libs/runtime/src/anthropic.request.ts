import type { ToolDefinition } from '#agentplane/agents';
import { trimmed } from './chat-completions.request.js';
import { isObject, parseJson } from './json-values.js';
import type { ConversationMessage } from './reply.js';
import type { UpstreamCall, UpstreamInput } from './wire-format.js';

/** The API requires `max_tokens`; this is sent when the agent sets none. */
const DEFAULT_MAX_TOKENS = 1024;

type AnthropicBlock = Record<string, unknown>;
interface AnthropicMessage {
  readonly role: 'user' | 'assistant';
  content: string | AnthropicBlock[];
}

/**
 * `POST {base_url}/messages`, the Anthropic Messages API (the base URL includes `/v1`); the key
 * header is added with the entry's own. `extra_body` goes last, as for the OpenAI formats.
 * The agent's `forward_metadata` does not apply here: the API refuses unknown top-level fields
 * such as `extra_metadata`, and its own `metadata` takes only `user_id`.
 */
export function anthropicRequest(input: UpstreamInput): UpstreamCall {
  const { agent, entry, request, instructions, tools } = input;
  const system = [instructions, ...request.messages.filter((m) => m.role === 'system').map((m) => m.content)]
    .filter((part): part is string => part !== null && part !== '')
    .join('\n\n');
  return {
    url: `${trimmed(entry.baseUrl)}/messages`,
    headers: { 'anthropic-version': '2023-06-01' },
    body: JSON.stringify({
      model: entry.model,
      max_tokens: agent.maxTokens ?? DEFAULT_MAX_TOKENS,
      ...(system === '' ? {} : { system }),
      messages: toAnthropicMessages(request.messages),
      stream: true,
      ...(agent.temperature === null ? {} : { temperature: agent.temperature }),
      ...(tools.length === 0 ? {} : { tools: tools.map(toAnthropicTool) }),
      ...(request.userId === undefined ? {} : { metadata: { user_id: request.userId } }),
      ...entry.extraBody,
    }),
  };
}

// The API requires a schema for every tool; an empty object one is what takes no arguments.
function toAnthropicTool(tool: ToolDefinition): Record<string, unknown> {
  return {
    name: tool.name,
    ...(tool.description === undefined ? {} : { description: tool.description }),
    input_schema: tool.parameters ?? { type: 'object', properties: {} },
  };
}

/**
 * The conversation without its system messages (they join `system`). Tool results come back in a
 * user turn, first in it: consecutive ones share one user message, and a user message right after
 * them joins it as a text block after the results.
 */
function toAnthropicMessages(messages: readonly ConversationMessage[]): AnthropicMessage[] {
  const out: AnthropicMessage[] = [];
  let previous: ConversationMessage['role'] | undefined;
  for (const message of messages) {
    const text = message.content ?? '';
    const last = out.at(-1);
    // The blocks of the user message holding the tool results just before this message, if any.
    const results = previous === 'tool' && last !== undefined && Array.isArray(last.content) ? last.content : undefined;
    if (message.role === 'tool') {
      const result = { type: 'tool_result', tool_use_id: message.toolCallId ?? '', content: text };
      if (results === undefined) out.push({ role: 'user', content: [result] });
      else results.push(result);
    } else if (message.role === 'user') {
      // The API refuses an empty text block; a user turn of its own may be an empty string.
      if (results === undefined) out.push({ role: 'user', content: text });
      else if (text !== '') results.push({ type: 'text', text });
    } else if (message.role === 'assistant') {
      out.push({ role: 'assistant', content: assistantContent(text, message.toolCalls ?? []) });
    }
    if (message.role !== 'system') previous = message.role;
  }
  return out;
}

function assistantContent(text: string, calls: NonNullable<ConversationMessage['toolCalls']>): string | AnthropicBlock[] {
  if (calls.length === 0) return text;
  return [
    ...(text === '' ? [] : [{ type: 'text', text }]),
    ...calls.map((call) => ({ type: 'tool_use', id: call.id, name: call.name, input: toolInput(call.arguments) })),
  ];
}

/**
 * A call's `input` must be an object: arguments that are empty, or not a JSON object at all
 * (nothing Claude writes), go as `{}`.
 */
function toolInput(args: string): Record<string, unknown> {
  const parsed = args.trim() === '' ? undefined : parseJson(args);
  return isObject(parsed) ? parsed : {};
}

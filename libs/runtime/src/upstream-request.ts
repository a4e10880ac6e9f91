import type { Agent, LlmEntry } from '#agentplane/agents';
import type { ConversationMessage } from './reply.js';

/** The URL and JSON body of one attempt, for the entry's API. Holds no secret. */
export function upstreamRequest(agent: Agent, entry: LlmEntry, messages: readonly ConversationMessage[]): { url: string; body: string } {
  const base = entry.baseUrl.replace(/\/+$/, '');
  if (entry.api === 'responses') {
    return {
      url: `${base}/responses`,
      body: JSON.stringify({
        model: entry.model,
        ...(agent.instructions === null ? {} : { instructions: agent.instructions }),
        input: messages.flatMap(toResponsesInput),
        stream: true,
        ...(agent.temperature === null ? {} : { temperature: agent.temperature }),
        ...(agent.maxTokens === null ? {} : { max_output_tokens: agent.maxTokens }),
      }),
    };
  }
  return {
    url: `${base}/chat/completions`,
    body: JSON.stringify({
      model: entry.model,
      messages: [...(agent.instructions === null ? [] : [{ role: 'system', content: agent.instructions }]), ...messages.map(toChatMessage)],
      stream: true,
      stream_options: { include_usage: true },
      ...(agent.temperature === null ? {} : { temperature: agent.temperature }),
      ...(agent.maxTokens === null ? {} : { max_tokens: agent.maxTokens }),
    }),
  };
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

function toResponsesInput(message: ConversationMessage): Record<string, unknown>[] {
  if (message.role === 'tool') {
    return [{ type: 'function_call_output', call_id: message.toolCallId ?? '', output: message.content ?? '' }];
  }
  const calls = (message.toolCalls ?? []).map((c) => ({ type: 'function_call', call_id: c.id, name: c.name, arguments: c.arguments }));
  const text = message.content === null || message.content === '' ? [] : [{ role: message.role, content: message.content }];
  return [...text, ...calls];
}

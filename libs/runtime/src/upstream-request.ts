import type { Agent, LlmEntry, ToolDefinition } from '#agentplane/agents';
import type { ConversationMessage, ReplyRequest } from './reply.js';
import { systemToolDefinitions } from './system-tools.js';

/** What of an agent shapes the upstream body (instructions come rendered, see renderInstructions). */
export type UpstreamAgent = Pick<Agent, 'temperature' | 'maxTokens' | 'tools' | 'systemTools' | 'forwardMetadata'>;

/** What of an llm entry shapes the upstream URL and body. */
export type UpstreamEntry = Pick<LlmEntry, 'baseUrl' | 'model' | 'api' | 'extraBody'>;

/**
 * The URL and JSON body of one attempt, for the entry's API. Holds no secret. The entry's
 * `extra_body` goes last, at the top level: the keys this function writes are refused there at save.
 */
export function upstreamRequest(
  agent: UpstreamAgent,
  entry: UpstreamEntry,
  request: ReplyRequest,
  instructions: string | null,
): { url: string; body: string } {
  const base = entry.baseUrl.replace(/\/+$/, '');
  const tools = [...agent.tools, ...systemToolDefinitions(agent.systemTools)];
  // Sent only when the agent says so: metadata is otherwise ours (logs, routing), not the provider's.
  const metadata = agent.forwardMetadata && Object.keys(request.metadata).length > 0 ? { extra_metadata: { ...request.metadata } } : {};
  const user = request.userId === undefined ? {} : { user: request.userId };
  const temperature = agent.temperature === null ? {} : { temperature: agent.temperature };
  if (entry.api === 'responses') {
    return {
      url: `${base}/responses`,
      body: JSON.stringify({
        model: entry.model,
        ...(instructions === null ? {} : { instructions }),
        input: request.messages.flatMap(toResponsesInput),
        stream: true,
        ...temperature,
        ...(agent.maxTokens === null ? {} : { max_output_tokens: agent.maxTokens }),
        ...(tools.length === 0 ? {} : { tools: tools.map(toResponsesTool) }),
        ...user,
        ...metadata,
        ...entry.extraBody,
      }),
    };
  }
  return {
    url: `${base}/chat/completions`,
    body: JSON.stringify({
      model: entry.model,
      messages: [...(instructions === null ? [] : [{ role: 'system', content: instructions }]), ...request.messages.map(toChatMessage)],
      stream: true,
      stream_options: { include_usage: true },
      ...temperature,
      ...(agent.maxTokens === null ? {} : { max_tokens: agent.maxTokens }),
      ...(tools.length === 0 ? {} : { tools: tools.map(toChatTool) }),
      ...user,
      ...metadata,
      ...entry.extraBody,
    }),
  };
}

function functionOf(tool: ToolDefinition): Record<string, unknown> {
  return {
    name: tool.name,
    ...(tool.description === undefined ? {} : { description: tool.description }),
    ...(tool.parameters === undefined ? {} : { parameters: tool.parameters }),
  };
}

function toChatTool(tool: ToolDefinition): Record<string, unknown> {
  return { type: 'function', function: functionOf(tool) };
}

// The Responses API makes a function strict unless told otherwise, which turns every optional
// parameter required and refuses schemas strict mode cannot take; chat completions never does.
function toResponsesTool(tool: ToolDefinition): Record<string, unknown> {
  return { type: 'function', ...functionOf(tool), strict: false };
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

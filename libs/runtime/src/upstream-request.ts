import { AnthropicReader } from './anthropic.reader.js';
import { anthropicRequest } from './anthropic.request.js';
import { azureRequest } from './azure.request.js';
import { ChatCompletionsReader } from './chat-completions.reader.js';
import { chatCompletionsRequest } from './chat-completions.request.js';
import { GeminiReader } from './gemini.reader.js';
import { geminiRequest } from './gemini.request.js';
import type { ReplyRequest } from './reply.js';
import { ResponsesReader } from './responses.reader.js';
import { responsesRequest } from './responses.request.js';
import { systemToolDefinitions } from './system-tools.js';
import type { StreamReader, UpstreamAgent, UpstreamCall, UpstreamEntry } from './wire-format.js';

/** The request of one attempt, in the entry's wire format. Holds no secret. */
export function upstreamRequest(
  agent: UpstreamAgent,
  entry: UpstreamEntry,
  request: ReplyRequest,
  instructions: string | null,
): UpstreamCall {
  const input = { agent, entry, request, instructions, tools: [...agent.tools, ...systemToolDefinitions(agent.systemTools)] };
  switch (entry.api) {
    case 'chat_completions':
      return chatCompletionsRequest(input);
    case 'responses':
      return responsesRequest(input);
    case 'anthropic':
      return anthropicRequest(input);
    case 'google':
      return geminiRequest(input);
    case 'azure':
      return azureRequest(input);
    default:
      throw new Error(`no request builder for api ${String(entry.api satisfies never)}`);
  }
}

/** A reader for the stream of one attempt, in the entry's wire format. */
export function streamReader(api: UpstreamEntry['api']): StreamReader {
  switch (api) {
    case 'chat_completions':
    case 'azure':
      return new ChatCompletionsReader();
    case 'responses':
      return new ResponsesReader();
    case 'anthropic':
      return new AnthropicReader();
    case 'google':
      return new GeminiReader();
    default:
      throw new Error(`no stream reader for api ${String(api satisfies never)}`);
  }
}

import type { ToolDefinition } from '#agentplane/agents';
import { trimmed } from './chat-completions.request.js';
import { isObject, parseJson } from './json-values.js';
import type { ConversationMessage } from './reply.js';
import type { UpstreamCall, UpstreamInput } from './wire-format.js';

/**
 * Google's sentinel for a function call the model did not sign itself. Gemini 3 refuses (400) a
 * replayed step whose first functionCall has no `thoughtSignature`, and the caller's history, in
 * the chat-completions shape, cannot carry the real one. Sent to Gemini 3 models only: earlier
 * ones have no such rule, and a signature is opaque bytes to them.
 */
export const UNSIGNED_CALL = 'skip_thought_signature_validator';

/**
 * The name a function result is sent under when no earlier assistant turn made the call it
 * answers: Gemini requires one, and the call id is no function name.
 */
export const UNKNOWN_FUNCTION = 'unknown';

type Part = Record<string, unknown>;
interface Content {
  readonly role: 'user' | 'model';
  readonly parts: Part[];
}

/**
 * `POST {base_url}/models/{model}:streamGenerateContent?alt=sse`, the Gemini (Generative Language
 * API) native format; the key header is added elsewhere. This API has no `user` field and no place
 * for metadata, so the reply's userId and the agent's forward_metadata do not apply here.
 */
export function geminiRequest(input: UpstreamInput): UpstreamCall {
  const { agent, entry, request, instructions, tools } = input;
  // Google's own clients name models `models/…`; the path has that segment already.
  const name = entry.model.replace(/^models\//, '');
  const { generationConfig: extraGeneration, ...extraBody } = entry.extraBody ?? {};
  // Merged, not replaced: extra_body is where thinkingConfig, topP and the like are set.
  const generationConfig = {
    ...(isObject(extraGeneration) ? extraGeneration : {}),
    ...(agent.temperature === null ? {} : { temperature: agent.temperature }),
    ...(agent.maxTokens === null ? {} : { maxOutputTokens: agent.maxTokens }),
  };
  const system = [
    ...(instructions === null || instructions === '' ? [] : [instructions]),
    ...request.messages.flatMap((m) => (m.role === 'system' && m.content !== null && m.content !== '' ? [m.content] : [])),
  ].join('\n\n');
  return {
    url: `${trimmed(entry.baseUrl)}/models/${encodeURIComponent(name)}:streamGenerateContent`,
    query: { alt: 'sse' },
    headers: {},
    body: JSON.stringify({
      contents: toContents(request.messages, /^gemini-3/.test(name)),
      ...(system === '' ? {} : { systemInstruction: { parts: [{ text: system }] } }),
      ...(Object.keys(generationConfig).length === 0 ? {} : { generationConfig }),
      ...(tools.length === 0 ? {} : { tools: [{ functionDeclarations: tools.map(toFunctionDeclaration) }] }),
      ...extraBody,
    }),
  };
}

// `parametersJsonSchema` takes a whole JSON Schema; `parameters` takes only an OpenAPI subset and
// refuses keywords such as additionalProperties, which agents' tool schemas may use.
function toFunctionDeclaration(tool: ToolDefinition): Record<string, unknown> {
  return {
    name: tool.name,
    ...(tool.description === undefined ? {} : { description: tool.description }),
    ...(tool.parameters === undefined ? {} : { parametersJsonSchema: tool.parameters }),
  };
}

/**
 * The conversation as Gemini contents: system messages went to the system instruction, a message
 * with nothing in it is left out (Gemini refuses empty parts), and consecutive tool results are
 * one user content, as Gemini itself expects the answers to one turn's calls.
 */
function toContents(messages: readonly ConversationMessage[], signCalls: boolean): Content[] {
  const contents: Content[] = [];
  let results: Content | undefined;
  messages.forEach((message, at) => {
    if (message.role === 'tool') {
      if (results === undefined) {
        results = { role: 'user', parts: [] };
        contents.push(results);
      }
      results.parts.push({ functionResponse: toFunctionResponse(message, messages.slice(0, at)) });
      return;
    }
    results = undefined;
    if (message.role === 'system') return;
    const text = message.content === null || message.content === '' ? [] : [{ text: message.content }];
    const parts: Part[] =
      message.role === 'assistant'
        ? [
            ...text,
            ...(message.toolCalls ?? []).map((call, i) => ({
              functionCall: { name: call.name, args: argsOf(call.arguments), ...(call.id === '' ? {} : { id: call.id }) },
              ...(i === 0 && signCalls ? { thoughtSignature: UNSIGNED_CALL } : {}),
            })),
          ]
        : text;
    if (parts.length > 0) contents.push({ role: message.role === 'assistant' ? 'model' : 'user', parts });
  });
  return contents;
}

/** The call's arguments as the object Gemini wants; arguments that are no JSON object are sent as none. */
function argsOf(text: string): Record<string, unknown> {
  const args = parseJson(text);
  return isObject(args) ? args : {};
}

function toFunctionResponse(message: ConversationMessage, before: readonly ConversationMessage[]): Record<string, unknown> {
  const id = message.toolCallId;
  // The latest call with that id, should a caller's ids repeat over the conversation.
  const call = id === undefined ? undefined : before.findLast((m) => m.role === 'assistant' && m.toolCalls?.some((c) => c.id === id));
  const name = call?.toolCalls?.find((c) => c.id === id)?.name ?? UNKNOWN_FUNCTION;
  const content = message.content ?? '';
  const parsed = parseJson(content);
  // Gemini takes a JSON object; any other result is wrapped, as its docs suggest.
  return { name, response: isObject(parsed) ? parsed : { result: content }, ...(id === undefined || id === '' ? {} : { id }) };
}

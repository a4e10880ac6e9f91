import type { EventSourceMessage } from 'eventsource-parser';
import { isNonEmptyString, isObject, numberOr, parseJson } from './json-values.js';
import { RuntimeError, RuntimeErrorCode } from './runtime.error.js';
import { PROGRESS, safeWord, streamError, type UpstreamOutput, type Usage } from './upstream-output.js';
import type { StreamReader } from './wire-format.js';

/** Gemini's finish reasons for output a filter withheld. */
const FILTERED = new Set(['SAFETY', 'RECITATION', 'BLOCKLIST', 'PROHIBITED_CONTENT', 'SPII', 'IMAGE_SAFETY']);

/**
 * Reads a Gemini `streamGenerateContent?alt=sse` stream: every event is a whole
 * GenerateContentResponse, with no event name and no `[DONE]`. The first candidate's text parts
 * are text, its `thought` parts progress (not relayed), its functionCall parts whole calls; its
 * `finishReason`, a prompt blocked before any candidate, the last `usageMetadata` and
 * `modelVersion` describe the end, which is only known when the stream closes (usage may follow
 * the finish reason). An `{"error": …}` object fails the attempt.
 */
export class GeminiReader implements StreamReader {
  private readonly callIds = new Set<string>();
  private generated = 0;
  private sawCall = false;
  private finishReason: string | undefined;
  /** The model the upstream says it is, once an event named it. */
  model: string | undefined;
  private usage: Usage | undefined;
  private done = false;

  read(event: EventSourceMessage): UpstreamOutput[] {
    // Gemini never sends `[DONE]`; a proxy in front of it might.
    if (this.done || event.data.trim() === '[DONE]') return [];
    const chunk = parseJson(event.data);
    if (!isObject(chunk)) throw new RuntimeError(RuntimeErrorCode.Malformed, 'The upstream sent an event that is not a JSON object.');
    if (event.event === 'error' || (chunk.error !== undefined && chunk.error !== null)) throw streamError(chunk.error ?? chunk);
    this.model = safeWord(chunk.modelVersion) ?? this.model;
    if (isObject(chunk.usageMetadata)) this.usage = toUsage(chunk.usageMetadata);
    const candidate = Array.isArray(chunk.candidates) ? (chunk.candidates[0] as unknown) : undefined;
    if (!isObject(candidate)) {
      // The prompt itself was blocked: no candidate will come.
      if (isObject(chunk.promptFeedback) && isNonEmptyString(chunk.promptFeedback.blockReason)) this.finishReason = 'content_filter';
      return [];
    }
    const out: UpstreamOutput[] = [];
    const parts = isObject(candidate.content) && Array.isArray(candidate.content.parts) ? candidate.content.parts : [];
    for (const part of parts) {
      if (!isObject(part)) continue;
      if (isObject(part.functionCall)) {
        out.push({ kind: 'tool_call', call: this.call(part.functionCall) });
      } else if (part.thought === true) {
        // Thought summaries (includeThoughts): not relayed, but the model is answering.
        out.push(PROGRESS);
      } else if (typeof part.text === 'string' && part.text !== '') {
        out.push({ kind: 'text', text: part.text });
      }
    }
    if (isNonEmptyString(candidate.finishReason)) this.finishReason = finishReason(candidate.finishReason);
    return out;
  }

  /** The end of the reply is the end of the stream, provided a finish reason (or a block) came first. */
  end(): UpstreamOutput[] {
    if (this.done) return [];
    if (this.finishReason === undefined)
      throw new RuntimeError(RuntimeErrorCode.Malformed, 'The upstream stream ended before the reply did.');
    this.done = true;
    return [
      {
        kind: 'done',
        // Gemini says STOP after function calls too; callers expect to be told to run them.
        finishReason: this.finishReason === 'stop' && this.sawCall ? 'tool_calls' : this.finishReason,
        ...(this.model === undefined ? {} : { model: this.model }),
        ...(this.usage === undefined ? {} : { usage: this.usage }),
      },
    ];
  }

  private call(functionCall: Record<string, unknown>) {
    const { name, args, id } = functionCall;
    if (!isNonEmptyString(name)) throw new RuntimeError(RuntimeErrorCode.Malformed, 'The upstream sent a function call without a name.');
    if (args !== undefined && args !== null && !isObject(args)) {
      throw new RuntimeError(RuntimeErrorCode.Malformed, 'The upstream sent function call arguments that are not a JSON object.');
    }
    this.sawCall = true;
    // Gemini names its calls only sometimes; the caller needs an id to answer each one.
    let callId = isNonEmptyString(id) ? id : `call_${this.generated++}`;
    while (!isNonEmptyString(id) && this.callIds.has(callId)) callId = `call_${this.generated++}`;
    this.callIds.add(callId);
    return { id: callId, name, arguments: JSON.stringify(args ?? {}) };
  }
}

function finishReason(raw: string): string {
  if (raw === 'STOP') return 'stop';
  if (raw === 'MAX_TOKENS') return 'length';
  if (FILTERED.has(raw)) return 'content_filter';
  // MALFORMED_FUNCTION_CALL, OTHER, LANGUAGE and those Google adds later, as words.
  return /^[A-Z_]{1,32}$/.test(raw) ? raw.toLowerCase() : 'other';
}

// Thinking tokens are billed as output, but Gemini counts them apart from the candidates'.
function toUsage(usage: Record<string, unknown>): Usage {
  const input = numberOr(usage.promptTokenCount, 0);
  const output = numberOr(usage.candidatesTokenCount, 0) + numberOr(usage.thoughtsTokenCount, 0);
  return { input_tokens: input, output_tokens: output, total_tokens: numberOr(usage.totalTokenCount, input + output) };
}

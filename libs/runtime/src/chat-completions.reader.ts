import type { EventSourceMessage } from 'eventsource-parser';
import { isCompleteJson, isNonEmptyString, isObject, numberOr, parseJson } from './json-values.js';
import { RuntimeError, RuntimeErrorCode } from './runtime.error.js';
import { ToolCallAccumulator, type ToolCallDelta } from './tool-call-accumulator.js';
import { PROGRESS, safeWord, streamError, type UpstreamOutput, type Usage } from './upstream-output.js';

/**
 * Reads an OpenAI-style `/chat/completions` stream: `choices[0].delta.content` is text,
 * `delta.tool_calls` are accumulated until the call is complete, `delta.reasoning_content` (or
 * `reasoning`) is progress that is not relayed, `finish_reason` and a final
 * `usage` chunk (stream_options.include_usage) describe the end, `data: [DONE]` closes it, and an
 * `{"error": …}` object (or an `error` event) at any point fails the attempt.
 */
export class ChatCompletionsReader {
  private readonly tools = new ToolCallAccumulator();
  private finishReason: string | undefined;
  /** The model the upstream says it is, once an event named it. */
  model: string | undefined;
  private usage: Usage | undefined;
  private done = false;

  read(event: EventSourceMessage): UpstreamOutput[] {
    if (this.done) return [];
    if (event.data.trim() === '[DONE]') return this.complete();
    const chunk = parseJson(event.data);
    if (!isObject(chunk)) throw new RuntimeError(RuntimeErrorCode.Malformed, 'The upstream sent an event that is not a JSON object.');
    if (event.event === 'error' || (chunk.error !== undefined && chunk.error !== null)) throw streamError(chunk.error ?? chunk);
    this.model = safeWord(chunk.model) ?? this.model;
    if (isObject(chunk.usage)) this.usage = toUsage(chunk.usage);
    const out: UpstreamOutput[] = [];
    const choice = Array.isArray(chunk.choices) ? (chunk.choices[0] as unknown) : undefined;
    if (isObject(choice)) {
      const delta = isObject(choice.delta) ? choice.delta : {};
      if (typeof delta.content === 'string' && delta.content !== '') out.push({ kind: 'text', text: delta.content });
      const toolDeltas = Array.isArray(delta.tool_calls) ? delta.tool_calls.filter((d): d is ToolCallDelta => isObject(d)) : [];
      if (toolDeltas.length > 0) this.tools.add(toolDeltas);
      // A tool call on its way, or a reasoning model thinking aloud (not relayed): the model is answering.
      if (toolDeltas.length > 0 || isNonEmptyString(delta.reasoning_content) || isNonEmptyString(delta.reasoning)) out.push(PROGRESS);
      if (typeof choice.finish_reason === 'string') {
        this.finishReason = finishReason(choice.finish_reason);
        out.push(...this.flushTools());
      }
    }
    return out;
  }

  /** The stream ended without `[DONE]`: fine after a finish_reason, malformed before one. */
  end(): UpstreamOutput[] {
    if (this.done) return [];
    if (this.finishReason === undefined)
      throw new RuntimeError(RuntimeErrorCode.Malformed, 'The upstream stream ended before the reply did.');
    return this.complete();
  }

  private complete(): UpstreamOutput[] {
    const out = this.flushTools();
    this.done = true;
    out.push({
      kind: 'done',
      finishReason: this.finishReason ?? 'stop',
      ...(this.model === undefined ? {} : { model: this.model }),
      ...(this.usage === undefined ? {} : { usage: this.usage }),
    });
    return out;
  }

  private flushTools(): UpstreamOutput[] {
    if (this.tools.size === 0) return [];
    const calls = this.tools.finish();
    if (calls === undefined) throw new RuntimeError(RuntimeErrorCode.Malformed, 'The upstream sent a tool call without a name.');
    if (!calls.every((call) => isCompleteJson(call.arguments))) {
      throw new RuntimeError(RuntimeErrorCode.Malformed, 'The upstream ended a tool call before its arguments were complete JSON.');
    }
    return calls.map((call) => ({ kind: 'tool_call', call }));
  }
}

/** Finish reasons are words (`stop`, `length`, `tool_calls`, a vendor's own); anything else is `other`. */
function finishReason(raw: string): string {
  return /^[a-z_]{1,32}$/.test(raw) ? raw : 'other';
}

function toUsage(usage: Record<string, unknown>): Usage {
  const input = numberOr(usage.prompt_tokens, 0);
  const output = numberOr(usage.completion_tokens, 0);
  return { input_tokens: input, output_tokens: output, total_tokens: numberOr(usage.total_tokens, input + output) };
}

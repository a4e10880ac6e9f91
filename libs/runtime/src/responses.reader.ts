import type { EventSourceMessage } from 'eventsource-parser';
import { isCompleteJson, isObject, numberOr, parseJson } from './json-values.js';
import { RuntimeError, RuntimeErrorCode } from './runtime.error.js';
import type { ToolCall } from './tool-call-accumulator.js';
import { PROGRESS, safeWord, streamError, type UpstreamOutput, type Usage } from './upstream-output.js';

/**
 * Reads an OpenAI Responses API stream (`POST /responses`, `stream: true`): text from
 * `response.output_text.delta`, function calls assembled from `response.output_item.added`,
 * `response.function_call_arguments.delta` and emitted complete at `…arguments.done` or
 * `response.output_item.done`, and the end at `response.completed` (or `response.incomplete`).
 * `error` and `response.failed` fail the attempt. The event type is the `event:` line, or the
 * payload's `type` when a server omits it.
 */
export class ResponsesReader {
  private readonly calls = new Map<string, { callId: string; name: string; arguments: string; emitted: boolean }>();
  private sawToolCall = false;
  private done = false;
  /** The model the upstream says it is, once an event named it. */
  model: string | undefined;

  read(event: EventSourceMessage): UpstreamOutput[] {
    if (this.done || event.data.trim() === '[DONE]') return [];
    const payload = parseJson(event.data);
    if (!isObject(payload)) throw new RuntimeError(RuntimeErrorCode.Malformed, 'The upstream sent an event that is not a JSON object.');
    const type = event.event ?? (typeof payload.type === 'string' ? payload.type : '');
    // An error object in any event that is not already a failure event (which names its cause).
    if (type !== 'error' && type !== 'response.failed' && payload.error !== undefined && payload.error !== null) {
      throw streamError(payload.error);
    }
    if (isObject(payload.response)) this.model = safeWord(payload.response.model) ?? this.model;
    switch (type) {
      case 'response.output_text.delta':
        return typeof payload.delta === 'string' && payload.delta !== '' ? [{ kind: 'text', text: payload.delta }] : [];
      case 'response.reasoning_text.delta':
      case 'response.reasoning_summary_text.delta':
        // A reasoning model thinking: not relayed, but the model is answering.
        return [PROGRESS];
      case 'response.output_item.added':
        if (!isObject(payload.item) || payload.item.type !== 'function_call') return [];
        this.track(payload.item);
        return [PROGRESS];
      case 'response.function_call_arguments.delta': {
        const call = this.calls.get(String(payload.item_id));
        if (call === undefined || typeof payload.delta !== 'string') return [];
        call.arguments += payload.delta;
        return [PROGRESS];
      }
      case 'response.function_call_arguments.done': {
        const call = this.calls.get(String(payload.item_id));
        if (call !== undefined && typeof payload.arguments === 'string') call.arguments = payload.arguments;
        return call === undefined ? [] : this.emit(call);
      }
      case 'response.output_item.done':
        if (isObject(payload.item) && payload.item.type === 'function_call') return this.emit(this.track(payload.item));
        return [];
      case 'response.completed':
      case 'response.incomplete':
        return this.complete(type, isObject(payload.response) ? payload.response : {});
      case 'error':
      case 'response.failed': {
        // The payload's own `type` is the event name here; its `code` says what went wrong.
        throw streamError(
          isObject(payload.response) ? payload.response.error : isObject(payload.error) ? payload.error : { code: payload.code },
        );
      }
      default:
        return [];
    }
  }

  end(): UpstreamOutput[] {
    if (this.done) return [];
    throw new RuntimeError(RuntimeErrorCode.Malformed, 'The upstream stream ended before the reply did.');
  }

  private track(item: Record<string, unknown>) {
    const key = String(item.id ?? item.call_id);
    let call = this.calls.get(key);
    if (call === undefined) {
      call = { callId: '', name: '', arguments: '', emitted: false };
      this.calls.set(key, call);
    }
    if (typeof item.call_id === 'string') call.callId = item.call_id;
    if (typeof item.name === 'string' && item.name !== '') call.name = item.name;
    if (typeof item.arguments === 'string' && item.arguments !== '') call.arguments = item.arguments;
    return call;
  }

  private emit(call: { callId: string; name: string; arguments: string; emitted: boolean }): UpstreamOutput[] {
    if (call.emitted) return [];
    if (call.name === '') throw new RuntimeError(RuntimeErrorCode.Malformed, 'The upstream sent a function call without a name.');
    if (call.arguments !== '' && !isCompleteJson(call.arguments)) {
      throw new RuntimeError(RuntimeErrorCode.Malformed, 'The upstream ended a function call before its arguments were complete JSON.');
    }
    call.emitted = true;
    this.sawToolCall = true;
    const complete: ToolCall = { id: call.callId, name: call.name, arguments: call.arguments === '' ? '{}' : call.arguments };
    return [{ kind: 'tool_call', call: complete }];
  }

  private complete(type: string, response: Record<string, unknown>): UpstreamOutput[] {
    // Calls the server never marked done are still complete by now.
    const out = [...this.calls.values()].flatMap((call) => this.emit(call));
    this.done = true;
    const reason = isObject(response.incomplete_details) ? response.incomplete_details.reason : undefined;
    const incomplete = typeof reason === 'string' && /^[a-z_]{1,64}$/.test(reason) ? reason : 'incomplete';
    const finishReason =
      type === 'response.incomplete'
        ? incomplete === 'max_output_tokens'
          ? 'length'
          : incomplete
        : this.sawToolCall
          ? 'tool_calls'
          : 'stop';
    const model = safeWord(response.model);
    out.push({
      kind: 'done',
      finishReason,
      ...(model === undefined ? {} : { model }),
      ...(isObject(response.usage) ? { usage: toUsage(response.usage) } : {}),
    });
    return out;
  }
}

function toUsage(usage: Record<string, unknown>): Usage {
  const input = numberOr(usage.input_tokens, 0);
  const output = numberOr(usage.output_tokens, 0);
  return { input_tokens: input, output_tokens: output, total_tokens: numberOr(usage.total_tokens, input + output) };
}

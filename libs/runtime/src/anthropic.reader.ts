import type { EventSourceMessage } from 'eventsource-parser';
import { isCompleteJson, isObject, numberOr, parseJson } from './json-values.js';
import { RuntimeError, RuntimeErrorCode } from './runtime.error.js';
import { PROGRESS, safeWord, streamError, type UpstreamOutput, type Usage } from './upstream-output.js';
import type { StreamReader } from './wire-format.js';

/** A `tool_use` content block on its way: `input` from its start, `json` from its deltas. */
interface ToolBlock {
  readonly id: string;
  readonly name: string;
  readonly input: unknown;
  json: string;
}

/** The stop reasons of the Messages API, as the finish reasons of the OpenAI formats. */
const STOP_REASONS: ReadonlyMap<string, string> = new Map([
  ['end_turn', 'stop'],
  ['stop_sequence', 'stop'],
  ['max_tokens', 'length'],
  ['tool_use', 'tool_calls'],
  ['refusal', 'content_filter'],
  ['pause_turn', 'pause_turn'],
]);

/**
 * Reads an Anthropic Messages API stream: text from `text_delta`, tool calls assembled from a
 * `tool_use` block's start and its `input_json_delta`s and emitted complete at its
 * `content_block_stop`, thinking as progress that is not relayed, the stop reason and output
 * tokens from `message_delta`, and the end at `message_stop`. An `error` event (or an `error`
 * object in any event) fails the attempt. The event type is the `event:` line, or the payload's
 * `type` when a server omits it; events it does not know (`ping`, new ones) are skipped.
 */
export class AnthropicReader implements StreamReader {
  /** Open tool_use blocks by their content block index. */
  private readonly tools = new Map<number, ToolBlock>();
  private sawToolCall = false;
  private stopReason: string | undefined;
  /** The model the upstream says it is, once an event named it. */
  model: string | undefined;
  private inputTokens: number | undefined;
  private cacheCreationTokens = 0;
  private cacheReadTokens = 0;
  private outputTokens: number | undefined;
  private done = false;

  read(event: EventSourceMessage): UpstreamOutput[] {
    // `[DONE]` is no part of this format, but a proxy in between may add it: it ends nothing.
    if (this.done || event.data.trim() === '[DONE]') return [];
    const payload = parseJson(event.data);
    if (!isObject(payload)) throw new RuntimeError(RuntimeErrorCode.Malformed, 'The upstream sent an event that is not a JSON object.');
    const type = event.event ?? (typeof payload.type === 'string' ? payload.type : '');
    if (type === 'error' || (payload.error !== undefined && payload.error !== null)) throw streamError(payload.error ?? payload);
    switch (type) {
      case 'message_start':
        if (isObject(payload.message)) this.start(payload.message);
        return [];
      case 'content_block_start':
        return isObject(payload.content_block) ? this.startBlock(payload.index, payload.content_block) : [];
      case 'content_block_delta':
        return isObject(payload.delta) ? this.delta(payload.index, payload.delta) : [];
      case 'content_block_stop':
        return this.stopBlock(payload.index);
      case 'message_delta':
        if (isObject(payload.delta) && typeof payload.delta.stop_reason === 'string') this.stopReason = payload.delta.stop_reason;
        if (isObject(payload.usage)) this.count(payload.usage);
        return [];
      case 'message_stop':
        return this.complete();
      default:
        return [];
    }
  }

  end(): UpstreamOutput[] {
    if (this.done) return [];
    throw new RuntimeError(RuntimeErrorCode.Malformed, 'The upstream stream ended before the reply did.');
  }

  private start(message: Record<string, unknown>): void {
    this.model = safeWord(message.model) ?? this.model;
    if (isObject(message.usage)) this.count(message.usage);
  }

  /**
   * Token counts from `message_start`, then from each `message_delta`: the latter's are
   * cumulative, and may carry the input counts too (they grow when server tools run).
   */
  private count(usage: Record<string, unknown>): void {
    if (typeof usage.input_tokens === 'number') this.inputTokens = numberOr(usage.input_tokens, 0);
    this.cacheCreationTokens = numberOr(usage.cache_creation_input_tokens, this.cacheCreationTokens);
    this.cacheReadTokens = numberOr(usage.cache_read_input_tokens, this.cacheReadTokens);
    if (typeof usage.output_tokens === 'number') this.outputTokens = numberOr(usage.output_tokens, 0);
  }

  private startBlock(index: unknown, block: Record<string, unknown>): UpstreamOutput[] {
    switch (block.type) {
      case 'text':
        return typeof block.text === 'string' && block.text !== '' ? [{ kind: 'text', text: block.text }] : [];
      case 'tool_use':
        this.tools.set(blockIndex(index), {
          id: typeof block.id === 'string' ? block.id : '',
          name: typeof block.name === 'string' ? block.name : '',
          input: block.input,
          json: '',
        });
        return [PROGRESS];
      case 'thinking':
      case 'redacted_thinking':
        // The model thinking: not relayed, but it is answering.
        return [PROGRESS];
      default:
        return [];
    }
  }

  private delta(index: unknown, delta: Record<string, unknown>): UpstreamOutput[] {
    switch (delta.type) {
      case 'text_delta':
        return typeof delta.text === 'string' && delta.text !== '' ? [{ kind: 'text', text: delta.text }] : [];
      case 'input_json_delta': {
        // Server tools (web search and the like) stream their input too: only our blocks count.
        const tool = this.tools.get(blockIndex(index));
        if (tool === undefined || typeof delta.partial_json !== 'string') return [];
        tool.json += delta.partial_json;
        return [PROGRESS];
      }
      case 'thinking_delta':
      case 'signature_delta':
        return [PROGRESS];
      default:
        return [];
    }
  }

  private stopBlock(index: unknown): UpstreamOutput[] {
    const key = blockIndex(index);
    const tool = this.tools.get(key);
    if (tool === undefined) return [];
    this.tools.delete(key);
    return [this.emit(key, tool)];
  }

  private emit(index: number, tool: ToolBlock): UpstreamOutput {
    if (tool.name === '') throw new RuntimeError(RuntimeErrorCode.Malformed, 'The upstream sent a tool call without a name.');
    // Without deltas, the input came whole in the block's start (empty for a call without arguments).
    const args = tool.json.trim() !== '' ? tool.json : isObject(tool.input) ? JSON.stringify(tool.input) : '{}';
    if (!isCompleteJson(args)) {
      throw new RuntimeError(RuntimeErrorCode.Malformed, 'The upstream ended a tool call before its arguments were complete JSON.');
    }
    this.sawToolCall = true;
    return { kind: 'tool_call', call: { id: tool.id === '' ? `call_${index}` : tool.id, name: tool.name, arguments: args } };
  }

  private complete(): UpstreamOutput[] {
    // Blocks the server never closed are as complete as they will get.
    const out = [...this.tools.entries()].sort(([a], [b]) => a - b).map(([index, tool]) => this.emit(index, tool));
    this.tools.clear();
    this.done = true;
    const usage = this.usage();
    out.push({
      kind: 'done',
      finishReason: this.stopReason === undefined ? (this.sawToolCall ? 'tool_calls' : 'stop') : finishReason(this.stopReason),
      ...(this.model === undefined ? {} : { model: this.model }),
      ...(usage === undefined ? {} : { usage }),
    });
    return out;
  }

  /** Input counts cache writes and reads, which the API counts apart from `input_tokens`. */
  private usage(): Usage | undefined {
    if (this.inputTokens === undefined && this.outputTokens === undefined) return undefined;
    const input = (this.inputTokens ?? 0) + this.cacheCreationTokens + this.cacheReadTokens;
    const output = this.outputTokens ?? 0;
    return { input_tokens: input, output_tokens: output, total_tokens: input + output };
  }
}

/** The block index; a server that leaves it out has one block open at a time. */
function blockIndex(index: unknown): number {
  return typeof index === 'number' && Number.isInteger(index) && index >= 0 ? index : 0;
}

/** Stop reasons we know are mapped; other words (a newer reason) pass; anything else is `other`. */
function finishReason(raw: string): string {
  return STOP_REASONS.get(raw) ?? (/^[a-z_]{1,32}$/.test(raw) ? raw : 'other');
}

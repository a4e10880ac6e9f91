import { isCompleteJson, isNonEmptyString } from './json-values.js';

/** A complete tool call, emitted once. `arguments` is the JSON text as the model wrote it. */
export interface ToolCall {
  readonly id: string;
  readonly name: string;
  readonly arguments: string;
}

/** One `choices[0].delta.tool_calls[]` item of a chat-completions chunk (every field optional). */
export interface ToolCallDelta {
  readonly index?: number;
  readonly id?: string;
  readonly type?: string;
  readonly function?: { readonly name?: string; readonly arguments?: string };
}

interface Partial {
  readonly index: number;
  readonly seq: number;
  id: string;
  name: string;
  arguments: string;
}

/**
 * Puts streamed tool calls back together. Providers differ: arguments split over many chunks,
 * several calls interleaved by `index`, `id` and `name` only on a call's first chunk, no `index`
 * at all (then a chunk with a new `id`, or without an id another name or a name after whole
 * arguments, starts a new call, and any other chunk continues the last), a whole call in one chunk, or every whole call sent
 * as index 0 (a different `id` at the same index starts a new call). Calls come out in index
 * order when the stream says they are done.
 */
export class ToolCallAccumulator {
  private calls: Partial[] = [];
  /** The call each explicit index currently continues. */
  private readonly byIndex = new Map<number, Partial>();
  private last: Partial | undefined;
  /** Numbers calls for the ids of those that came without one, unique over the whole reply. */
  private started = 0;

  add(deltas: readonly ToolCallDelta[]): void {
    for (const delta of deltas) {
      const call = this.callFor(delta);
      if (isNonEmptyString(delta.id)) call.id = delta.id;
      // The name comes whole on a call's first chunk; some servers repeat it later, never append.
      if (call.name === '' && typeof delta.function?.name === 'string') call.name = delta.function.name;
      if (typeof delta.function?.arguments === 'string') call.arguments += delta.function.arguments;
      this.last = call;
    }
  }

  get size(): number {
    return this.calls.length;
  }

  /** Every call, complete, in index order; a call with no name is malformed (undefined is returned). */
  finish(): ToolCall[] | undefined {
    const calls = [...this.calls].sort((a, b) => a.index - b.index || a.seq - b.seq);
    this.calls = [];
    this.byIndex.clear();
    this.last = undefined;
    const out: ToolCall[] = [];
    for (const call of calls) {
      if (call.name === '') return undefined;
      out.push({
        id: call.id === '' ? `call_${call.seq}` : call.id,
        name: call.name,
        arguments: call.arguments === '' ? '{}' : call.arguments,
      });
    }
    return out;
  }

  private callFor(delta: ToolCallDelta): Partial {
    const explicit = typeof delta.index === 'number' && Number.isInteger(delta.index) && delta.index >= 0 ? delta.index : undefined;
    if (explicit !== undefined) {
      const current = this.byIndex.get(explicit);
      if (current !== undefined && !(isNonEmptyString(delta.id) && current.id !== '' && current.id !== delta.id)) return current;
      return this.start(explicit);
    }
    const last = this.last;
    const name = delta.function?.name;
    const startsNew =
      last === undefined ||
      (isNonEmptyString(delta.id) && last.id !== '' && last.id !== delta.id) ||
      // No id to go by: another name, or a name after a call whose arguments are whole, is a new call.
      (!isNonEmptyString(delta.id) && isNonEmptyString(name) && last.name !== '' && (name !== last.name || isCompleteJson(last.arguments)));
    return startsNew ? this.start(this.calls.reduce((max, c) => Math.max(max, c.index + 1), 0)) : last;
  }

  private start(index: number): Partial {
    const call: Partial = { index, seq: this.started++, id: '', name: '', arguments: '' };
    this.calls.push(call);
    this.byIndex.set(index, call);
    return call;
  }
}

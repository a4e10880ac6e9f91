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
  id: string;
  name: string;
  arguments: string;
}

/**
 * Puts streamed tool calls back together. Providers differ: arguments split over many chunks,
 * several calls interleaved by `index`, `id` and `name` only on a call's first chunk, no `index`
 * at all (then a chunk with a new `id` starts a new call, and one without continues the last),
 * or a whole call in one chunk. Calls come out in index order when the stream says they are done.
 */
export class ToolCallAccumulator {
  private readonly calls = new Map<number, Partial>();
  private lastIndex: number | undefined;

  add(deltas: readonly ToolCallDelta[]): void {
    for (const delta of deltas) {
      const index = this.indexOf(delta);
      let call = this.calls.get(index);
      if (call === undefined) {
        call = { id: '', name: '', arguments: '' };
        this.calls.set(index, call);
      }
      if (typeof delta.id === 'string' && delta.id !== '') call.id = delta.id;
      // The name comes whole on a call's first chunk; some servers repeat it later, never append.
      if (call.name === '' && typeof delta.function?.name === 'string') call.name = delta.function.name;
      if (typeof delta.function?.arguments === 'string') call.arguments += delta.function.arguments;
      this.lastIndex = index;
    }
  }

  get size(): number {
    return this.calls.size;
  }

  /** Every call, complete, in index order; a call with no name is malformed (undefined is returned). */
  finish(): ToolCall[] | undefined {
    const out: ToolCall[] = [];
    for (const [index, call] of [...this.calls].sort(([a], [b]) => a - b)) {
      if (call.name === '') return undefined;
      out.push({ id: call.id === '' ? `call_${index}` : call.id, name: call.name, arguments: call.arguments === '' ? '{}' : call.arguments });
    }
    this.calls.clear();
    return out;
  }

  private indexOf(delta: ToolCallDelta): number {
    if (typeof delta.index === 'number' && Number.isInteger(delta.index) && delta.index >= 0) return delta.index;
    // No index: a new id (or the very first chunk) starts a call; anything else continues the last one.
    const startsNew = this.lastIndex === undefined || (typeof delta.id === 'string' && delta.id !== '' && this.calls.get(this.lastIndex)?.id !== delta.id);
    return startsNew ? (this.lastIndex === undefined ? 0 : Math.max(...this.calls.keys()) + 1) : this.lastIndex!;
  }
}

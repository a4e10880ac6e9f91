import type { ToolCall } from './tool-call-accumulator.js';

export interface Usage {
  readonly input_tokens: number;
  readonly output_tokens: number;
  readonly total_tokens: number;
}

/** What an upstream stream means, whatever its API: text, complete tool calls, then the end. */
export type UpstreamOutput =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'tool_call'; readonly call: ToolCall }
  | { readonly kind: 'done'; readonly finishReason: string; readonly model?: string; readonly usage?: Usage };

/** A safe word from an upstream error (its `type` or `code`), or nothing: never its message. */
export function safeErrorType(error: unknown): string | undefined {
  if (error === null || typeof error !== 'object') return undefined;
  for (const field of ['type', 'code'] as const) {
    const value = (error as Record<string, unknown>)[field];
    if (typeof value === 'string' && /^[a-z][a-z0-9_.-]{0,63}$/i.test(value)) return value;
  }
  return undefined;
}

export function parseJson(data: string): unknown {
  try {
    return JSON.parse(data) as unknown;
  } catch {
    return undefined;
  }
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

export function numberOr(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : fallback;
}

import { RuntimeError, RuntimeErrorCode } from './runtime.error.js';
import type { ToolCall } from './tool-call-accumulator.js';

export interface Usage {
  readonly input_tokens: number;
  readonly output_tokens: number;
  readonly total_tokens: number;
}

/**
 * What an upstream stream means, whatever its API: text, complete tool calls, then the end.
 * `progress` says a tool call is being streamed (nothing to relay yet, but the model is answering).
 */
export type UpstreamOutput =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'tool_call'; readonly call: ToolCall }
  | { readonly kind: 'progress' }
  | { readonly kind: 'done'; readonly finishReason: string; readonly model?: string; readonly usage?: Usage };

export const PROGRESS: UpstreamOutput = { kind: 'progress' };

/**
 * Error types providers document (OpenAI, Azure OpenAI, Anthropic-compatible, vLLM, Ollama and
 * friends), and Google's canonical statuses (Gemini's `status`). Only these are repeated to our
 * caller: a pattern would not do, since a hostile upstream can put the caller's key in any of
 * those fields, and many keys look like words.
 */
const KNOWN_ERROR_TYPES: ReadonlySet<string> = new Set([
  'api_error',
  'authentication_error',
  'billing_error',
  'context_length_exceeded',
  'insufficient_quota',
  'invalid_api_key',
  'invalid_request_error',
  'model_not_found',
  'not_found_error',
  'overloaded_error',
  'permission_error',
  'rate_limit_error',
  'rate_limit_exceeded',
  'request_too_large',
  'server_error',
  'service_unavailable',
  'timeout',
  'timeout_error',
  'tokens',
  // google.rpc.Code names, which Gemini puts in `status`.
  'ABORTED',
  'ALREADY_EXISTS',
  'CANCELLED',
  'DATA_LOSS',
  'DEADLINE_EXCEEDED',
  'FAILED_PRECONDITION',
  'INTERNAL',
  'INVALID_ARGUMENT',
  'NOT_FOUND',
  'OUT_OF_RANGE',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
  'UNAUTHENTICATED',
  'UNAVAILABLE',
  'UNIMPLEMENTED',
  'UNKNOWN',
]);

/** The upstream error's `type` (or `code`, or `status`) when it is one we know, or nothing: never its message. */
export function safeErrorType(error: unknown): string | undefined {
  if (error === null || typeof error !== 'object') return undefined;
  for (const field of ['type', 'code', 'status'] as const) {
    const value = (error as Record<string, unknown>)[field];
    if (typeof value === 'string' && KNOWN_ERROR_TYPES.has(value)) return value;
  }
  return undefined;
}

/** The failure for an error the upstream reported inside its stream, naming only a known type. */
export function streamError(source: unknown): RuntimeError {
  const type = safeErrorType(source);
  return new RuntimeError(
    RuntimeErrorCode.StreamError,
    `The upstream reported an error in the stream${type === undefined ? '' : ` (${type})`}.`,
  );
}

/**
 * An upstream word we repeat (the model name): short, plain characters only. A pattern is enough
 * here, unlike for error types: the model name is part of the answer, like its text, which is
 * relayed as the upstream wrote it; error fields are where providers echo a caller's key by
 * accident, so only known words pass there.
 */
export function safeWord(value: unknown, maxLength = 200): string | undefined {
  return typeof value === 'string' && value.length <= maxLength && /^[\w.:/@+-]+$/.test(value) ? value : undefined;
}

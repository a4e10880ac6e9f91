import type { RuntimeErrorCode } from './runtime.error.js';
import type { ToolCallCheck } from './system-tools.js';
import type { ToolCall } from './tool-call-accumulator.js';
import type { Usage } from './upstream-output.js';

export const MESSAGE_ROLES = ['system', 'user', 'assistant', 'tool'] as const;
export type MessageRole = (typeof MESSAGE_ROLES)[number];

/** One message of the conversation so far, as the caller sends it. */
export interface ConversationMessage {
  readonly role: MessageRole;
  readonly content: string | null;
  /** For role `tool`: which call this is the result of. */
  readonly toolCallId?: string;
  /** For role `assistant`: calls the model made in that turn. */
  readonly toolCalls?: readonly ToolCall[];
}

export interface ReplyRequest {
  readonly messages: readonly ConversationMessage[];
  /** Sent upstream as `extra_metadata` only when the agent forwards metadata. */
  readonly metadata: Readonly<Record<string, string>>;
  /** The end user, sent upstream as `user` (providers use it for abuse monitoring). */
  readonly userId?: string;
  /** Values for the instructions' `{{name}}` placeholders, over the agent's defaults. */
  readonly variables: Readonly<Record<string, string>>;
}

/**
 * A tool call as a reply relays it: `system` for an enabled system tool's, which the runtime
 * checked against the agent's configuration (`agentId` for transfer_to_agent, or `error`).
 */
export type ReplyToolCall = ToolCall & ToolCallCheck;

/** What a reply streams, in order: deltas and tool calls, then `completed` or `error`. */
export type ReplyEvent =
  | { readonly type: 'delta'; readonly text: string }
  | { readonly type: 'tool_call'; readonly call: ReplyToolCall }
  | {
      readonly type: 'completed';
      readonly finishReason: string;
      readonly entryIndex: number;
      readonly model: string;
      readonly ttftMs: number;
      readonly durationMs: number;
      readonly usage?: Usage;
    }
  /** `upstreamStatus` is set for code `upstream_status`: the HTTP status the upstream answered. */
  | { readonly type: 'error'; readonly code: RuntimeErrorCode; readonly message: string; readonly upstreamStatus?: number };

/**
 * A reply's events, and `expired`: aborted when a deadline ends the reply after something was
 * relayed. Only the error is left to send then, so a consumer still waiting to hand on an event
 * (to a caller that stopped reading) can stop waiting; the events themselves are not taken early.
 */
export interface ReplyStream extends AsyncIterable<ReplyEvent> {
  readonly expired: AbortSignal;
}

/** A reply taken whole (`stream: false`). */
export interface WholeReply {
  readonly text: string;
  readonly toolCalls: readonly ReplyToolCall[];
  readonly completion: Extract<ReplyEvent, { type: 'completed' }>;
}

/** Defaults for every attempt; an llm entry's `timeouts` override the first four. */
export interface RuntimeLimits {
  readonly connectMs: number;
  readonly firstTokenMs: number;
  readonly idleMs: number;
  readonly totalMs: number;
  readonly maxLineBytes: number;
  readonly maxTotalBytes: number;
}

export const DEFAULT_RUNTIME_LIMITS: RuntimeLimits = {
  connectMs: 5_000,
  firstTokenMs: 20_000,
  idleMs: 30_000,
  totalMs: 300_000,
  maxLineBytes: 1024 * 1024,
  maxTotalBytes: 16 * 1024 * 1024,
};

/** Overrides for the runtime's default limits (tests use small ones). */
export const RUNTIME_LIMITS = Symbol('RUNTIME_LIMITS');

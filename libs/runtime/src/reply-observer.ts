import { Injectable } from '@nestjs/common';
import type { OrgId } from '#agentplane/auth';
import type { LlmApi } from '#agentplane/endpoints';
import type { RuntimeErrorCode } from './runtime.error.js';
import type { Usage } from './upstream-output.js';

/** How a reply ended: completed, failed with a code, or given up by the caller. */
export type ReplyOutcome = 'completed' | 'cancelled' | RuntimeErrorCode;

/** One llm entry tried for a reply, and how that attempt ended. */
export interface AttemptSummary {
  readonly entryIndex: number;
  readonly api: LlmApi;
  readonly model: string;
  readonly outcome: ReplyOutcome;
  readonly durationMs: number;
}

/** What a reply did, once it ended: what records and metrics are made of. Holds no message text or secret. */
export interface ReplySummary {
  readonly orgId: OrgId;
  readonly agentId: string;
  readonly requestId: string | null;
  readonly stream: boolean;
  readonly outcome: ReplyOutcome;
  /** The entry of the last attempt (the one that answered, when the reply completed); null with none tried. */
  readonly entryIndex: number | null;
  readonly api: LlmApi | null;
  /** The model the upstream reported, or the entry's. */
  readonly model: string | null;
  readonly attempts: readonly AttemptSummary[];
  /** Set once something was relayed. */
  readonly ttftMs: number | null;
  readonly durationMs: number;
  readonly usage: Usage | null;
  readonly startedAt: Date;
}

/**
 * Told about every reply, on the request path: implementations must return at once (queue,
 * count) and never throw. The runtime has no opinion on where summaries go.
 */
@Injectable()
export abstract class ReplyObserver {
  /** A reply began (before any upstream call). */
  abstract replyStarted(): void;
  abstract replyEnded(summary: ReplySummary): void;
}

/** Observes nothing (the CLI, unit tests). */
@Injectable()
export class IgnoreReplies extends ReplyObserver {
  replyStarted(): void {}
  replyEnded(): void {}
}

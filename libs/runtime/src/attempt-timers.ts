import { RuntimeError, RuntimeErrorCode } from './runtime.error.js';

export interface AttemptDeadlines {
  readonly firstTokenMs: number;
  readonly idleMs: number;
  readonly totalMs: number;
}

/**
 * The clock of one attempt at one llm entry: its abort signal fires when the caller goes away,
 * or when a deadline passes (first token, silence between chunks, whole attempt). `reason` says
 * which deadline it was, so the failure gets its own code. Until the model begins answering
 * (text, a tool call on its way, reasoning) the first-token deadline applies; after that the
 * silence deadline, and only while the upstream is being waited on.
 */
export class AttemptTimers {
  private readonly controller = new AbortController();
  private firstToken: NodeJS.Timeout | undefined;
  private idle: NodeJS.Timeout | undefined;
  private readonly total: NodeJS.Timeout;
  private readonly onCallerAbort = () => this.controller.abort();
  reason: RuntimeError | undefined;

  constructor(
    private readonly caller: AbortSignal,
    private readonly deadlines: AttemptDeadlines,
  ) {
    if (caller.aborted) this.controller.abort();
    caller.addEventListener('abort', this.onCallerAbort, { once: true });
    this.firstToken = this.after(deadlines.firstTokenMs, RuntimeErrorCode.FirstTokenTimeout, 'No token arrived from the upstream in time.');
    this.total = this.after(deadlines.totalMs, RuntimeErrorCode.TotalTimeout, 'The upstream reply took longer than allowed.');
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** What was read has been handed on; waiting for the next bytes starts the silence deadline again. */
  resumeIdle(): void {
    clearTimeout(this.idle);
    if (this.firstToken === undefined)
      this.idle = this.after(this.deadlines.idleMs, RuntimeErrorCode.IdleTimeout, 'The upstream went silent mid-reply.');
  }

  /** While the caller takes what was read, the upstream is not being waited on. */
  pauseIdle(): void {
    clearTimeout(this.idle);
    this.idle = undefined;
  }

  /** The model has begun answering: no first-token deadline any more, silence is timed instead. */
  answerBegan(): void {
    if (this.firstToken === undefined) return;
    clearTimeout(this.firstToken);
    this.firstToken = undefined;
  }

  /**
   * Ends the attempt: timers stop, and unless it completed, anything still open upstream is
   * aborted. (A completed attempt's connection may still be finishing its body, to be reused.)
   */
  dispose(completed: boolean): void {
    clearTimeout(this.firstToken);
    clearTimeout(this.idle);
    clearTimeout(this.total);
    this.caller.removeEventListener('abort', this.onCallerAbort);
    if (!completed) this.controller.abort();
  }

  private after(ms: number, code: RuntimeErrorCode, message: string): NodeJS.Timeout {
    return setTimeout(() => {
      this.reason ??= new RuntimeError(code, message);
      this.controller.abort();
    }, ms);
  }
}

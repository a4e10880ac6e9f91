import { UpstreamError, UpstreamFailure } from './runtime.error.js';

export interface AttemptDeadlines {
  readonly firstTokenMs: number;
  readonly idleMs: number;
  readonly totalMs: number;
}

/**
 * The clock of one attempt at one llm entry: its abort signal fires when the caller goes away,
 * or when a deadline passes (first token, silence between chunks, whole attempt). `reason` says
 * which deadline it was, so the failure gets its own code.
 */
export class AttemptTimers {
  private readonly controller = new AbortController();
  private readonly timers = new Set<NodeJS.Timeout>();
  private firstToken: NodeJS.Timeout | undefined;
  private idle: NodeJS.Timeout | undefined;
  private readonly onCallerAbort = () => this.controller.abort();
  reason: UpstreamError | undefined;

  constructor(
    private readonly caller: AbortSignal,
    private readonly deadlines: AttemptDeadlines,
  ) {
    if (caller.aborted) this.controller.abort();
    caller.addEventListener('abort', this.onCallerAbort, { once: true });
    this.firstToken = this.after(deadlines.firstTokenMs, UpstreamFailure.FirstTokenTimeout, 'No token arrived from the upstream in time.');
    this.after(deadlines.totalMs, UpstreamFailure.TotalTimeout, 'The upstream reply took longer than allowed.');
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Bytes arrived: the silence deadline starts again. */
  chunkArrived(): void {
    if (this.idle !== undefined) this.clear(this.idle);
    this.idle = this.after(this.deadlines.idleMs, UpstreamFailure.IdleTimeout, 'The upstream went silent mid-reply.');
  }

  firstTokenArrived(): void {
    if (this.firstToken !== undefined) this.clear(this.firstToken);
    this.firstToken = undefined;
  }

  /**
   * Ends the attempt: timers stop, and unless it completed, anything still open upstream is
   * aborted. (A completed attempt's connection may still be finishing its body, to be reused.)
   */
  dispose(completed: boolean): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.caller.removeEventListener('abort', this.onCallerAbort);
    if (!completed) this.controller.abort();
  }

  private after(ms: number, failure: UpstreamFailure, message: string): NodeJS.Timeout {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.reason ??= new UpstreamError(failure, message);
      this.controller.abort();
    }, ms);
    this.timers.add(timer);
    return timer;
  }

  private clear(timer: NodeJS.Timeout): void {
    clearTimeout(timer);
    this.timers.delete(timer);
  }
}

import { once } from 'node:events';
import type { ServerResponse } from 'node:http';

/**
 * How long an ended response may take to reach a caller that is slow to read it. A caller that
 * reads at all takes the rest in far less; one that stopped reading would otherwise hold its
 * socket (and what is buffered for it) open for as long as it likes.
 */
export const END_DRAIN_MS = 2_000;

/**
 * A `text/event-stream` response written straight to the socket: events with backpressure, and a
 * comment line whenever the stream has been quiet for a heartbeat interval, so proxies and
 * clients do not time out while the upstream thinks.
 */
export class SseStream {
  private readonly heartbeat: NodeJS.Timeout;

  private constructor(
    private readonly res: ServerResponse,
    heartbeatMs: number,
  ) {
    // Restarted by every write, so it fires after exactly one interval of silence. Nothing is added
    // to a buffer the caller is not emptying.
    this.heartbeat = setTimeout(() => {
      if (!this.open) return;
      if (!this.res.writableNeedDrain) this.res.write(': heartbeat\n\n');
      this.heartbeat.refresh();
    }, heartbeatMs);
  }

  /** Sends the status and headers at once, so the caller knows the reply has begun. */
  static open(res: ServerResponse, headers: Record<string, string>, heartbeatMs: number): SseStream {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      'x-accel-buffering': 'no',
      ...headers,
    });
    res.flushHeaders();
    return new SseStream(res, heartbeatMs);
  }

  get open(): boolean {
    return !this.res.destroyed && !this.res.writableEnded;
  }

  /**
   * Writes one event, waiting while the socket is full, until `stopWaiting` aborts (the event stays
   * buffered); false once the caller is gone.
   */
  async send(name: string, data: unknown, stopWaiting?: AbortSignal): Promise<boolean> {
    if (!this.open) return false;
    this.heartbeat.refresh();
    if (this.res.write(`event: ${name}\ndata: ${JSON.stringify(data)}\n\n`) || stopWaiting?.aborted) return this.open;
    // Whichever comes first; the others' listeners are removed, so none pile up over a long reply.
    const done = new AbortController();
    await Promise.race([
      once(this.res, 'drain', { signal: done.signal }),
      once(this.res, 'close', { signal: done.signal }),
      ...(stopWaiting === undefined ? [] : [once(stopWaiting, 'abort', { signal: done.signal })]),
    ]).catch(() => undefined);
    done.abort();
    return this.open;
  }

  /**
   * Ends the response, and destroys the socket if what is buffered does not reach the caller
   * within END_DRAIN_MS. True when the whole response was handed to the socket.
   */
  async end(): Promise<boolean> {
    clearTimeout(this.heartbeat);
    if (this.res.destroyed) return this.res.writableFinished;
    if (!this.res.writableEnded) this.res.end();
    if (this.res.writableFinished) return true;
    // Plain listeners and a timer rather than aborted promises: this runs once per reply, and an
    // abort costs an error object with its stack for each of the losers.
    await new Promise<void>((resolve) => {
      const settle = (): void => {
        clearTimeout(timer);
        this.res.off('finish', settle).off('close', settle);
        resolve();
      };
      const timer = setTimeout(settle, END_DRAIN_MS);
      this.res.once('finish', settle).once('close', settle);
    });
    if (!this.res.writableFinished) this.res.destroy();
    return this.res.writableFinished;
  }
}

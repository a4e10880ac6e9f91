import { once } from 'node:events';
import type { ServerResponse } from 'node:http';

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
    // Restarted by every write, so it fires after exactly one interval of silence.
    this.heartbeat = setTimeout(() => {
      if (!this.open) return;
      this.res.write(': heartbeat\n\n');
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

  /** Writes one event, waiting while the socket is full; false once the caller is gone. */
  async send(name: string, data: unknown): Promise<boolean> {
    if (!this.open) return false;
    this.heartbeat.refresh();
    if (this.res.write(`event: ${name}\ndata: ${JSON.stringify(data)}\n\n`)) return true;
    // Whichever comes first; the other listener is removed, so none pile up over a long reply.
    const done = new AbortController();
    await Promise.race([once(this.res, 'drain', { signal: done.signal }), once(this.res, 'close', { signal: done.signal })]).catch(() => undefined);
    done.abort();
    return this.open;
  }

  end(): void {
    clearTimeout(this.heartbeat);
    if (!this.res.writableEnded) this.res.end();
  }
}

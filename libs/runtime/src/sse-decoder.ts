import { createParser, type EventSourceMessage, type EventSourceParser } from 'eventsource-parser';
import { UpstreamError, UpstreamFailure } from './runtime.error.js';

/**
 * Bytes of an upstream `text/event-stream` in, complete events out, whatever the chunking: a
 * chunk may end inside a line, inside a CRLF pair or inside a UTF-8 character. Parsing is
 * eventsource-parser's (comments, `event:` lines, CR/LF/CRLF); this adds the byte decoding and
 * the limits. A line longer than `maxLineBytes` is `upstream_too_large`.
 */
export class SseDecoder {
  private readonly text = new TextDecoder('utf-8');
  private readonly parser: EventSourceParser;
  private pending: EventSourceMessage[] = [];
  private overflow = false;

  constructor(maxLineBytes: number) {
    this.parser = createParser({
      maxBufferSize: maxLineBytes,
      onEvent: (event) => this.pending.push(event),
      onError: (error) => {
        if (error.type === 'max-buffer-size-exceeded') this.overflow = true;
      },
    });
  }

  /** The events completed by this chunk, in order. */
  feed(chunk: Uint8Array): EventSourceMessage[] {
    this.parse(this.text.decode(chunk, { stream: true }));
    return this.take();
  }

  /** At the end of the stream: whatever the last bytes complete (an unterminated event is dropped, as the spec says). */
  end(): EventSourceMessage[] {
    this.parse(this.text.decode());
    return this.take();
  }

  private parse(text: string): void {
    if (text === '') return;
    try {
      this.parser.feed(text);
    } catch {
      // The parser refuses further input once over its limit; that is the same failure.
      this.overflow = true;
    }
    if (this.overflow) throw new UpstreamError(UpstreamFailure.TooLarge, 'The upstream sent a line over the size limit.');
  }

  private take(): EventSourceMessage[] {
    const out = this.pending;
    this.pending = [];
    return out;
  }
}

import { createParser, type EventSourceMessage, type EventSourceParser } from 'eventsource-parser';
import { RuntimeError, RuntimeErrorCode } from './runtime.error.js';

/**
 * Bytes of an upstream `text/event-stream` in, complete events out, whatever the chunking: a
 * chunk may end inside a line, inside a CRLF pair or inside a UTF-8 character. Parsing is
 * eventsource-parser's (comments, `event:` lines, CR/LF/CRLF); this adds the byte decoding and
 * the limits. A line longer than `maxLineBytes` bytes is `upstream_too_large`. The length is
 * counted here, on the bytes: the parser's own buffer limit counts characters and only applies
 * to a line still unterminated at the end of a chunk.
 */
const LF = 0x0a;
const CR = 0x0d;

function firstTerminator(chunk: Uint8Array): number {
  const lf = chunk.indexOf(LF);
  const cr = chunk.indexOf(CR);
  return lf < 0 ? cr : cr < 0 ? lf : Math.min(lf, cr);
}

export class SseDecoder {
  private readonly text = new TextDecoder('utf-8');
  private readonly parser: EventSourceParser;
  private pending: EventSourceMessage[] = [];
  private overflow = false;
  /** Bytes of the current line received so far. */
  private lineBytes = 0;

  constructor(private readonly maxLineBytes: number) {
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
    this.countLines(chunk);
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
    if (this.overflow) throw new RuntimeError(RuntimeErrorCode.TooLarge, 'The upstream sent a line over the size limit.');
  }

  private countLines(chunk: Uint8Array): void {
    const last = Math.max(chunk.lastIndexOf(LF), chunk.lastIndexOf(CR));
    if (last < 0) {
      this.lineBytes += chunk.length;
    } else {
      // The line the chunk finishes, every line inside it (only a chunk longer than the limit
      // can hold a whole one that is too long), then the line it starts.
      const first = firstTerminator(chunk);
      let longest = this.lineBytes + first;
      if (chunk.length > this.maxLineBytes) {
        let start = first + 1;
        for (let i = start; i <= last; i++) {
          if (chunk[i] === LF || chunk[i] === CR) {
            longest = Math.max(longest, i - start);
            start = i + 1;
          }
        }
      }
      this.lineBytes = chunk.length - last - 1;
      if (longest > this.maxLineBytes) this.overflow = true;
    }
    if (this.overflow || this.lineBytes > this.maxLineBytes) {
      this.overflow = true;
      throw new RuntimeError(RuntimeErrorCode.TooLarge, 'The upstream sent a line over the size limit.');
    }
  }

  private take(): EventSourceMessage[] {
    const out = this.pending;
    this.pending = [];
    return out;
  }
}

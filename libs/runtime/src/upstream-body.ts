import type { Readable } from 'node:stream';

/** Closes an upstream body we stopped reading, releasing its socket; its abort error goes nowhere. */
export function release(body: Readable): void {
  if (!body.destroyed) body.once('error', () => undefined).destroy();
}

const DRAIN_MAX_BYTES = 64 * 1024;
const DRAIN_MAX_MS = 5_000;

/**
 * After a complete reply, what is left of the body is at most its end (the chunk terminator, a
 * trailing `[DONE]`). Reading it, instead of destroying the body, lets undici keep the TLS
 * connection for the next reply; an upstream that keeps talking is cut off.
 */
export function drainForReuse(body: Readable): void {
  if (body.destroyed || body.readableEnded) return;
  let read = 0;
  const timer = setTimeout(() => release(body), DRAIN_MAX_MS);
  body.on('data', (chunk: Buffer) => {
    read += chunk.length;
    if (read > DRAIN_MAX_BYTES) release(body);
  });
  body.once('close', () => clearTimeout(timer));
  body.once('error', () => undefined);
  body.resume();
}

/**
 * Reading untrusted JSON from an upstream stream: plain helpers with no runtime types, so the
 * stream readers and the tool-call accumulator can share them without importing each other.
 */

/** Tool-call arguments are relayed complete: a call cut off mid-JSON is a malformed reply. */
export function isCompleteJson(text: string): boolean {
  return parseJson(text) !== undefined || text.trim() === 'null';
}

export function parseJson(data: string): unknown {
  try {
    return JSON.parse(data) as unknown;
  } catch {
    return undefined;
  }
}

export function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value !== '';
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

export function numberOr(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : fallback;
}

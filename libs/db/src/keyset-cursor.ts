/**
 * An opaque cursor for keyset pagination on `(created_at, id)`: the position after which the next
 * page starts. Clients pass it back verbatim; anything that does not decode is refused, never
 * treated as "from the start".
 */
export interface KeysetPosition {
  readonly createdAt: Date;
  readonly id: string;
}

export function encodeCursor(position: KeysetPosition): string {
  return Buffer.from(JSON.stringify([position.createdAt.toISOString(), position.id]), 'utf8').toString('base64url');
}

/** Undefined when `cursor` is not one this product issued. */
export function decodeCursor(cursor: string): KeysetPosition | undefined {
  if (!/^[A-Za-z0-9_-]{1,400}$/.test(cursor)) return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (!Array.isArray(value) || value.length !== 2) return undefined;
    const [at, id] = value as unknown[];
    if (typeof at !== 'string' || typeof id !== 'string' || !/^[a-z]+_[0-9a-z]{1,64}$/.test(id)) return undefined;
    // Years 1..9999 only: JavaScript also prints year 0, negative and six-digit years, which
    // PostgreSQL refuses or reads differently, and no row was created then.
    if (!/^\d{4}-/.test(at) || at.startsWith('0000-')) return undefined;
    const createdAt = new Date(at);
    if (Number.isNaN(createdAt.getTime()) || createdAt.toISOString() !== at) return undefined;
    return { createdAt, id };
  } catch {
    return undefined;
  }
}

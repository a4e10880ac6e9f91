const MASK = '****';
const HINT_MIN_KEY_LENGTH = 20;
const VISIBLE = 4;

/**
 * The one way a stored key is shown: fixed-length, and the last 4 characters only when the key
 * has at least 20, so short keys reveal nothing and no hint reveals the key's length.
 */
export function secretHint(secret: string): string {
  const chars = [...secret];
  return chars.length >= HINT_MIN_KEY_LENGTH ? MASK + chars.slice(-VISIBLE).join('') : MASK;
}

/**
 * True for a value shaped like a hint rather than a key: a run of mask characters and at most 4
 * more characters of any kind. Clients that echo a read back on edit send exactly this; storing it would replace the
 * real key with its own mask.
 */
export function looksMasked(value: string): boolean {
  return /^[*•●·]{3,}.{0,4}$/u.test(value);
}

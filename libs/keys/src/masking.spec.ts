import { secretHint, looksMasked } from './masking.js';

const ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_';

/** A key of `length` characters whose last four are distinguishable. */
function keyOf(length: number): string {
  return Array.from({ length }, (_, i) => ALPHABET[i % ALPHABET.length]).join('');
}

describe('secretHint', () => {
  it.each([1, 4, 5, 8, 19])('shows only the mask for a %i-character key', (length) => {
    expect(secretHint(keyOf(length))).toBe('****');
  });

  it('shows only the mask for an empty key', () => {
    expect(secretHint('')).toBe('****');
  });

  it.each([20, 21, 40, 64, 200])('shows the mask and the last 4 characters of a %i-character key', (length) => {
    const key = keyOf(length);
    expect(secretHint(key)).toBe(`****${key.slice(-4)}`);
  });

  it('shows the last 4 characters of a realistic key', () => {
    expect(secretHint('sk-proj-Zq8mK2vT9xWc4LbN7rHs1YdF6gJp3QeU')).toBe('****3QeU');
  });

  it('never reveals more than the last 4 characters, nor the key length', () => {
    const lengths = new Set<number>();
    for (let length = 0; length <= 100; length++) {
      const key = keyOf(length);
      const hint = secretHint(key);
      lengths.add(hint.length);
      expect(hint.startsWith('****')).toBe(true);
      expect(hint).toBe(length >= 20 ? `****${key.slice(-4)}` : '****');
    }
    expect([...lengths].sort()).toEqual([4, 8]);
  });

  it('counts characters, not UTF-16 units, and never splits a surrogate pair', () => {
    // 10 emoji are 20 UTF-16 units but only 10 characters: too short for a hint.
    expect(secretHint('🔑'.repeat(10))).toBe('****');
    const key = `${'x'.repeat(16)}ab🔑c`;
    expect([...key]).toHaveLength(20);
    expect(secretHint(key)).toBe('****ab🔑c');
    expect([...secretHint(key)]).toHaveLength(8);
  });
});

describe('looksMasked', () => {
  it.each(['****', '****abcd', '••••abcd', '***x', '***', '●●●●wxyz', '······1234', '*******', '****ab', '****ab**', '********'])(
    'recognizes the hint %j',
    (value) => {
      expect(looksMasked(value)).toBe(true);
    },
  );

  it.each([
    'sk-proj-Zq8mK2vT9xWc4LbN7rHs1YdF6gJp3QeU',
    'abcd****',
    '*****abcde',
    '',
    '**',
    '**abcd',
    'ab****cd',
    ' ****abcd',
    '****abcd*',
    '****ab*cd',
  ])('treats %j as a real value', (value) => {
    expect(looksMasked(value)).toBe(false);
  });

  it('recognizes every hint secretHint produces for an ordinary key', () => {
    for (const length of [1, 19, 20, 64]) expect(looksMasked(secretHint(keyOf(length)))).toBe(true);
  });
});

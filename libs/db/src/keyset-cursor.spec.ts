import { decodeCursor, encodeCursor, type KeysetPosition } from './keyset-cursor.js';

const POSITION: KeysetPosition = { createdAt: new Date('2026-11-22T10:00:00.123Z'), id: 'cred_5k2m9xq7rt3vz8w1bc4dn6hp0g' };

function b64url(value: unknown): string {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value), 'utf8').toString('base64url');
}

describe('encodeCursor / decodeCursor', () => {
  it.each([
    POSITION,
    { createdAt: new Date('1970-01-01T00:00:00.000Z'), id: 'a_0' },
    { createdAt: new Date('2026-02-28T23:59:59.999Z'), id: `org_${'z'.repeat(64)}` },
    { createdAt: new Date(Date.UTC(2026, 0, 1, 0, 0, 0, 1)), id: 'key_abc' },
  ])('round-trips %o to the millisecond', (position) => {
    const cursor = encodeCursor(position);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    const decoded = decodeCursor(cursor);
    expect(decoded).toEqual(position);
    expect(decoded?.createdAt.getTime()).toBe(position.createdAt.getTime());
  });

  it('is opaque: it shows neither the id nor the timestamp in clear', () => {
    const cursor = encodeCursor(POSITION);
    expect(cursor).not.toContain(POSITION.id);
    expect(cursor).not.toContain('2026');
  });

  it('distinguishes positions a millisecond apart', () => {
    const later = { ...POSITION, createdAt: new Date(POSITION.createdAt.getTime() + 1) };
    expect(encodeCursor(later)).not.toBe(encodeCursor(POSITION));
    expect(decodeCursor(encodeCursor(later))?.createdAt.getTime()).toBe(POSITION.createdAt.getTime() + 1);
  });

  it.each(['', 'x', 'not a cursor', 'abc=', 'abc+/', '!!!!', '%7B%7D', '....', 'null', 'AAAA', '____', `${encodeCursor(POSITION)}=`])(
    'refuses the random string %j',
    (cursor) => {
      expect(decodeCursor(cursor)).toBeUndefined();
    },
  );

  it.each<[string, unknown]>([
    ['an object', { createdAt: '2026-11-22T10:00:00.123Z', id: 'cred_abc' }],
    ['a one-element array', ['2026-11-22T10:00:00.123Z']],
    ['a three-element array', ['2026-11-22T10:00:00.123Z', 'cred_abc', 'extra']],
    ['an empty array', []],
    ['the reversed pair', ['cred_abc', '2026-11-22T10:00:00.123Z']],
    ['a numeric timestamp', [1795341600123, 'cred_abc']],
    ['a numeric id', ['2026-11-22T10:00:00.123Z', 42]],
    ['a null id', ['2026-11-22T10:00:00.123Z', null]],
    ['a nested array', [['2026-11-22T10:00:00.123Z'], 'cred_abc']],
    ['null', null],
    ['a string', 'cred_abc'],
    ['a number', 7],
    ['true', true],
  ])('refuses base64url JSON of %s', (_label, value) => {
    expect(decodeCursor(b64url(value))).toBeUndefined();
  });

  it.each(['{', '["2026-11-22T10:00:00.123Z","cred_abc"', 'undefined', '\u0000'])('refuses base64url of invalid JSON %j', (text) => {
    expect(decodeCursor(b64url(text))).toBeUndefined();
  });

  it.each(['not-a-date', '', '2026-13-01T00:00:00.000Z', '2026-02-30T00:00:00.000Z', '2026-11-22T25:00:00.000Z'])(
    'refuses the bad date %j',
    (at) => {
      expect(decodeCursor(b64url([at, 'cred_abc']))).toBeUndefined();
    },
  );

  // Dates JavaScript accepts but PostgreSQL timestamps cannot hold, or print in another form.
  it.each([
    '-000001-01-01T00:00:00.000Z',
    '0000-01-01T00:00:00.000Z',
    '0000-12-31T23:59:59.999Z',
    '-271821-04-20T00:00:00.000Z',
    '+010000-01-01T00:00:00.000Z',
    '+275760-09-13T00:00:00.000Z',
  ])('refuses the out-of-range date %j', (at) => {
    expect(new Date(at).toISOString()).toBe(at);
    expect(decodeCursor(b64url([at, 'cred_abc']))).toBeUndefined();
  });

  it('accepts the first day of year 1 and the last of year 9999', () => {
    for (const at of ['0001-01-01T00:00:00.000Z', '9999-12-31T23:59:59.999Z']) {
      expect(decodeCursor(b64url([at, 'cred_abc']))).toEqual({ createdAt: new Date(at), id: 'cred_abc' });
    }
  });

  it.each([
    '2026-11-22T10:00:00Z',
    '2026-11-22T10:00:00.123+00:00',
    '2026-11-22T11:00:00.123+01:00',
    '2026-11-22',
    '2026-11-22T10:00:00.1230Z',
    '2026-11-22t10:00:00.123z',
    ' 2026-11-22T10:00:00.123Z',
    'Sun, 22 Nov 2026 10:00:00 GMT',
    '1795341600123',
  ])('refuses the non-canonical date %j', (at) => {
    expect(decodeCursor(b64url([at, 'cred_abc']))).toBeUndefined();
  });

  it.each([
    '',
    'cred',
    'cred_',
    '_abc',
    'CRED_ABC',
    'cred_ABC',
    'cred-abc',
    'cred_abc def',
    "cred_' OR 1=1 --",
    'cred_abc/../x',
    'cred_abc\n',
    'cred__abc',
    'cred_ab_c',
    '1_abc',
    `cred_${'a'.repeat(65)}`,
    'cred_äbc',
  ])('refuses the id %j', (id) => {
    expect(decodeCursor(b64url(['2026-11-22T10:00:00.123Z', id]))).toBeUndefined();
  });

  it('accepts an id of exactly 64 characters after the prefix', () => {
    expect(decodeCursor(b64url(['2026-11-22T10:00:00.123Z', `cred_${'a'.repeat(64)}`]))).toBeDefined();
  });

  it('refuses over-long input even when it would otherwise decode', () => {
    const padded = b64url(`["2026-11-22T10:00:00.123Z",${' '.repeat(400)}"cred_abc"]`);
    expect(padded.length).toBeGreaterThan(400);
    expect(JSON.parse(Buffer.from(padded, 'base64url').toString('utf8'))).toEqual(['2026-11-22T10:00:00.123Z', 'cred_abc']);
    expect(decodeCursor(padded)).toBeUndefined();
    expect(decodeCursor('A'.repeat(401))).toBeUndefined();
    expect(decodeCursor('A'.repeat(100_000))).toBeUndefined();
  });

  it('accepts the same padded form while it fits the length limit', () => {
    const padded = b64url(`["2026-11-22T10:00:00.123Z", "cred_abc"]`);
    expect(padded.length).toBeLessThanOrEqual(400);
    expect(decodeCursor(padded)).toEqual({ createdAt: new Date('2026-11-22T10:00:00.123Z'), id: 'cred_abc' });
  });
});

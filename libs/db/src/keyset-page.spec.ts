import { CommonErrorCode, DomainError } from '#agentplane/errors';
import { decodeCursor, encodeCursor } from './keyset-cursor.js';
import { keysetQuery, pageRequest, toPage } from './keyset-page.js';

const rows = [
  { id: 'cred_c', createdAt: new Date('2026-11-03T00:00:00.750Z') },
  { id: 'cred_b', createdAt: new Date('2026-11-02T00:00:00.500Z') },
  { id: 'cred_a', createdAt: new Date('2026-11-01T00:00:00.250Z') },
];

describe('pageRequest', () => {
  it.each(['garbage', '', 'eyJ4IjoxfQ', encodeCursor({ createdAt: new Date(), id: 'cred_x' }) + '!'])('refuses the cursor %j', (cursor) => {
    const error = (() => {
      try {
        pageRequest(10, cursor);
      } catch (e) {
        return e;
      }
    })() as DomainError;
    expect(error).toBeInstanceOf(DomainError);
    expect(error.code).toBe(CommonErrorCode.InvalidCursor);
  });

  it('turns a cursor back into its position', () => {
    const position = { createdAt: new Date('2026-11-05T01:02:03.456Z'), id: 'cred_x' };
    expect(pageRequest(10, encodeCursor(position))).toEqual({ limit: 10, after: position });
    expect(pageRequest(5, undefined)).toEqual({ limit: 5 });
  });
});

describe('keysetQuery and toPage', () => {
  it('asks for one row more than the page, after the position, newest first', () => {
    const after = { createdAt: new Date('2026-11-02T00:00:00.500Z'), id: 'cred_b' };
    expect(keysetQuery({ limit: 2, after })).toEqual({
      where: { OR: [{ createdAt: { lt: after.createdAt } }, { createdAt: after.createdAt, id: { lt: 'cred_b' } }] },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: 3,
    });
    expect(keysetQuery({ limit: 2 }).where).toEqual({});
  });

  it('keeps the page, says there is more, and points the cursor at its last row', () => {
    const page = toPage(rows, { limit: 2 }, (r) => r.id);
    expect(page.data).toEqual(['cred_c', 'cred_b']);
    expect(page.hasMore).toBe(true);
    expect(decodeCursor(page.nextCursor!)).toEqual({ createdAt: rows[1]!.createdAt, id: 'cred_b' });
  });

  it('leaves the cursor null on the last page', () => {
    expect(toPage(rows, { limit: 3 }, (r) => r.id)).toEqual({ data: ['cred_c', 'cred_b', 'cred_a'], hasMore: false, nextCursor: null });
    expect(toPage([], { limit: 3 }, (r: (typeof rows)[number]) => r.id)).toEqual({ data: [], hasMore: false, nextCursor: null });
  });

  it('keys on another time column when told, with the same cursors', () => {
    const after = { createdAt: new Date('2026-11-02T00:00:00.500Z'), id: 'rec_b' };
    expect(keysetQuery({ limit: 1, after }, 'startedAt')).toEqual({
      where: { OR: [{ startedAt: { lt: after.createdAt } }, { startedAt: after.createdAt, id: { lt: 'rec_b' } }] },
      orderBy: [{ startedAt: 'desc' }, { id: 'desc' }],
      take: 2,
    });
    const started = rows.map((r) => ({ id: r.id, startedAt: r.createdAt }));
    const page = toPage(started, { limit: 1 }, (r) => r.id, 'startedAt');
    expect(page).toEqual({ data: ['cred_c'], hasMore: true, nextCursor: expect.any(String) });
    expect(decodeCursor(page.nextCursor!)).toEqual({ createdAt: rows[0]!.createdAt, id: 'cred_c' });
  });
});

import { CommonError, CommonErrorCode } from '#agentplane/errors';
import { decodeCursor, encodeCursor, type KeysetPosition } from './keyset-cursor.js';

/** A page to read: newest first, after `after` when given. */
export interface PageRequest {
  readonly limit: number;
  readonly after?: KeysetPosition;
}

export interface Page<T> {
  readonly data: readonly T[];
  readonly hasMore: boolean;
  readonly nextCursor: string | null;
}

/** Parses a client's cursor; one this API did not issue is refused, never read as "from the start". */
export function pageRequest(limit: number, cursor: string | undefined): PageRequest {
  if (cursor === undefined) return { limit };
  const after = decodeCursor(cursor);
  if (after === undefined) throw new CommonError(CommonErrorCode.InvalidCursor, 'The cursor is not one this API issued.');
  return { limit, after };
}

/**
 * The `where` and `orderBy` parts of a keyset query on `(column, id)`, newest first; one row more
 * than asked. The column is `created_at` unless a table orders its rows by another time.
 */
export function keysetQuery<K extends string = 'createdAt'>(page: PageRequest, column: K = 'createdAt' as K) {
  const at = <V>(value: V) => ({ [column]: value }) as Record<K, V>;
  return {
    where:
      page.after === undefined
        ? {}
        : { OR: [at({ lt: page.after.createdAt }), { ...at(page.after.createdAt), id: { lt: page.after.id } }] },
    orderBy: [at('desc' as const), { id: 'desc' as const }],
    take: page.limit + 1,
  };
}

/** The page from rows read with `keysetQuery` (the extra row only says that another page exists). */
export function toPage<R extends { readonly id: string } & Readonly<Record<K, Date>>, T, K extends string = 'createdAt'>(
  rows: readonly R[],
  page: PageRequest,
  map: (row: R) => T,
  column: K = 'createdAt' as K,
): Page<T> {
  const kept = rows.slice(0, page.limit);
  const hasMore = rows.length > page.limit;
  const last = kept.at(-1);
  return {
    data: kept.map(map),
    hasMore,
    nextCursor: hasMore && last !== undefined ? encodeCursor({ createdAt: last[column], id: last.id }) : null,
  };
}

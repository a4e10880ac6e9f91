import { createHash } from 'node:crypto';

/**
 * A parsed `If-Match`: any current version (`*`), or the entity tags one of which must be current.
 * Only strong tags can match (the edge drops weak ones).
 */
export type EtagCondition = '*' | readonly string[];

export function etagMatches(condition: EtagCondition, etag: string): boolean {
  return condition === '*' || condition.includes(etag);
}

/**
 * A strong entity tag over a resource's state, given as a JSON-serializable array of everything a
 * read shows (and its version): the tag changes whenever the representation does. The state must
 * hold no secret (hints only): the tag is public.
 */
export function strongEtag(state: readonly unknown[]): string {
  return `"${createHash('sha256').update(JSON.stringify(state)).digest('base64url').slice(0, 27)}"`;
}

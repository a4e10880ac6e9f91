import { createHash } from 'node:crypto';
import { CommonErrorCode, DomainError } from '#agentplane/errors';

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

/** How often an update is computed again when the resource changed under it before giving up (412). */
const UPDATE_ATTEMPTS = 10;
const UPDATE_BACKOFF_MS = 10;

export interface OptimisticUpdate<T> {
  /** The resource as it is now (throws not-found itself). */
  readonly read: () => Promise<T>;
  readonly etagOf: (current: T) => string;
  /** Writes the change computed from `current`, only while the resource still has `etag` (else 412). */
  readonly write: (current: T, etag: EtagCondition) => Promise<T>;
  /** Names the resource in a 412. */
  readonly resource: string;
  readonly sleep: (ms: number) => Promise<void>;
}

/**
 * A partial update computed from a read outside the write's transaction (so slow checks, such as
 * resolving names, hold no lock): the write carries the read's ETag, and if the resource changed
 * in between it is read and changed again, up to UPDATE_ATTEMPTS times. With `ifMatch`, a
 * resource that no longer matches it is a 412 at once.
 */
export async function updateWithRetries<T>(update: OptimisticUpdate<T>, ifMatch?: EtagCondition): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const current = await update.read();
    const etag = update.etagOf(current);
    if (ifMatch !== undefined && !etagMatches(ifMatch, etag)) throw DomainError.preconditionFailed(update.resource);
    try {
      return await update.write(current, [etag]);
    } catch (error) {
      const raced = error instanceof DomainError && error.code === CommonErrorCode.PreconditionFailed;
      if (!raced || attempt === UPDATE_ATTEMPTS) throw error;
      // Writers that collided would collide again in step: spread them out.
      await update.sleep(Math.random() * UPDATE_BACKOFF_MS * attempt);
    }
  }
}

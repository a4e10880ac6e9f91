import { Inject, Injectable } from '@nestjs/common';
import type { OrgId } from '#agentplane/auth';
import { Clock } from '#agentplane/clock';
import type { Transaction } from '#agentplane/db';
import { CommonError, CommonErrorCode } from '#agentplane/errors';
import { Fingerprinter } from '#agentplane/keys';
import { LOGGER, type Logger } from '#agentplane/logging';
import { IdempotencyRepository, type StoredResponse } from './idempotency.repository.js';

/** A request sent with an Idempotency-Key, as the edge parsed it. */
export interface IdempotentRequest {
  readonly key: string;
  /** The request as received (method, path, canonical body): what "the same request" means. */
  readonly request: string;
}

/** A key this request holds until it completes (storing its response) or is released. */
export interface IdempotencyClaim {
  readonly orgId: OrgId;
  readonly key: string;
  /** When the claim was taken (database clock): a claim taken over later is another claim. */
  readonly claimedAt: Date;
}

export type ClaimOutcome =
  { readonly kind: 'claimed'; readonly claim: IdempotencyClaim } | { readonly kind: 'replay'; readonly response: StoredResponse };

/** Keys are remembered this long. */
export const IDEMPOTENCY_TTL_SECONDS = 24 * 60 * 60;
// A claim still pending after this long belongs to a request that died: the next retry takes it over.
const STALE_CLAIM_SECONDS = 120;
// How long a retry waits for the first request with its key to finish, before a 409.
const WAIT_FOR_FIRST_MS = 15_000;

/**
 * Idempotency-Key: the first request claims the key before doing anything else (DNS checks,
 * sealing), stores the response it sent in the transaction that did the work, or releases the
 * key when it fails, so a retry can run. A retry with the same request gets that response; one
 * that comes while the first is still at work waits for it. The fingerprint is a keyed hash,
 * since a body may hold an api_key.
 */
@Injectable()
export class IdempotencyService {
  constructor(
    private readonly records: IdempotencyRepository,
    private readonly fingerprinter: Fingerprinter,
    private readonly clock: Clock,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async claim(orgId: OrgId, request: IdempotentRequest): Promise<ClaimOutcome> {
    const deadline = this.clock.monotonicMs() + WAIT_FOR_FIRST_MS;
    for (let wait = 10; ; wait = Math.min(wait * 2, 250)) {
      const claimedAt = await this.records.claim(
        orgId,
        request.key,
        this.fingerprinter.fingerprint(request.request),
        IDEMPOTENCY_TTL_SECONDS,
      );
      if (claimedAt !== undefined) return { kind: 'claimed', claim: { orgId, key: request.key, claimedAt } };
      const record = await this.records.find(orgId, request.key);
      if (record !== undefined) {
        if (!this.fingerprinter.matches(request.request, record.fingerprint)) {
          throw new CommonError(
            CommonErrorCode.IdempotencyKeyReused,
            'This Idempotency-Key was used with a different request in the last 24 hours.',
          );
        }
        if (record.response !== undefined) return { kind: 'replay', response: record.response };
        if (record.ageSeconds > STALE_CLAIM_SECONDS) {
          const takenAt = await this.records.takeOver(orgId, request.key, STALE_CLAIM_SECONDS);
          if (takenAt !== undefined) return { kind: 'claimed', claim: { orgId, key: request.key, claimedAt: takenAt } };
        }
      }
      // Pending (or released just now): look again shortly.
      if (this.clock.monotonicMs() >= deadline) {
        throw new CommonError(
          CommonErrorCode.IdempotencyKeyInProgress,
          'A request with this Idempotency-Key is still being processed; retry shortly.',
        );
      }
      await this.clock.sleep(wait);
    }
  }

  /**
   * Stores the response in `tx`. A claim another request took over (this one ran past the stale
   * limit) throws, which rolls the work back: the other request does it instead.
   */
  async complete(tx: Transaction, claim: IdempotencyClaim, response: StoredResponse): Promise<void> {
    if (!(await this.records.complete(tx, claim.orgId, claim.key, claim.claimedAt, response))) {
      throw new CommonError(CommonErrorCode.IdempotencyKeyInProgress, 'A later request took over this Idempotency-Key; retry shortly.');
    }
  }

  release(claim: IdempotencyClaim): Promise<void> {
    return this.records.release(claim.orgId, claim.key, claim.claimedAt);
  }

  /**
   * Runs `work` under `request`'s key: claims it, lets `work` store its response through the
   * `complete` it is given (inside its transaction), and releases the key when `work` throws.
   */
  async run<T>(
    orgId: OrgId,
    request: IdempotentRequest | undefined,
    work: (complete: ((tx: Transaction, response: StoredResponse) => Promise<void>) | undefined) => Promise<T>,
  ): Promise<{ readonly result: T } | { readonly replay: StoredResponse }> {
    if (request === undefined) return { result: await work(undefined) };
    const outcome = await this.claim(orgId, request);
    if (outcome.kind === 'replay') return { replay: outcome.response };
    try {
      return { result: await work((tx, response) => this.complete(tx, outcome.claim, response)) };
    } catch (error) {
      // The work rolled back: nothing was done under this key, so a retry may do it.
      await this.release(outcome.claim).catch((releaseError: unknown) => {
        // Not fatal: the claim goes stale and the next retry takes it over.
        this.logger.warn({ err: releaseError, idempotency_key_age_limit_s: STALE_CLAIM_SECONDS }, 'could not release an idempotency key');
      });
      throw error;
    }
  }
}

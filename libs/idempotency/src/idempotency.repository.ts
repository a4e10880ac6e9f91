import { Injectable } from '@nestjs/common';
import type { OrgId } from '#agentplane/auth';
import { Prisma, PrismaService, type Transaction } from '#agentplane/db';
import type { Fingerprint } from '#agentplane/keys';

/** What a finished request sent, to be sent again to a retry. */
export interface StoredResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: unknown;
}

export interface IdempotencyRecord {
  readonly fingerprint: Fingerprint;
  /** Undefined while the first request is still being processed. */
  readonly response: StoredResponse | undefined;
  /** Seconds since the claim was taken (database clock). */
  readonly ageSeconds: number;
}

// A claim's status_code while the request that took it is still at work.
const PENDING = 0;

/** The idempotency_keys table. Times come from the database's clock, which every instance shares. */
@Injectable()
export class IdempotencyRepository {
  constructor(private readonly prisma: PrismaService) {}

  /**
   * Takes the key for a new request. Returns the claim's time, which names this claim (and no
   * later one) when it completes or is released; undefined when the key is taken. An expired
   * record of the same key is removed first, so the key can be used again after its time.
   */
  async claim(orgId: OrgId, key: string, fingerprint: Fingerprint, ttlSeconds: number): Promise<Date | undefined> {
    const [, inserted] = await this.prisma.$transaction([
      this.prisma.$executeRaw`
        DELETE FROM idempotency_keys
         WHERE org_id = ${orgId} AND key = ${key} AND created_at < now() - make_interval(secs => ${ttlSeconds})`,
      this.prisma.$queryRaw<{ created_at: Date | string }[]>`
        INSERT INTO idempotency_keys (org_id, key, fingerprint, fingerprint_key_id, status_code, resource_id, response, created_at)
        VALUES (${orgId}, ${key}, ${fingerprint.digest}, ${fingerprint.keyId}, ${PENDING}, '', '{}'::jsonb, now())
        ON CONFLICT (org_id, key) DO NOTHING
        RETURNING created_at`,
    ]);
    return dateOf(inserted[0]?.created_at);
  }

  async find(orgId: OrgId, key: string): Promise<IdempotencyRecord | undefined> {
    const rows = await this.prisma.$queryRaw<
      { fingerprint: Uint8Array; fingerprint_key_id: string; status_code: number; response: Prisma.JsonValue; age: number }[]
    >`
      SELECT fingerprint, fingerprint_key_id, status_code, response,
             EXTRACT(EPOCH FROM now() - created_at)::float8 AS age
        FROM idempotency_keys WHERE org_id = ${orgId} AND key = ${key}`;
    const row = rows[0];
    if (row === undefined) return undefined;
    const stored = row.response as { headers?: Record<string, string>; body?: string } | null;
    return {
      fingerprint: { keyId: row.fingerprint_key_id, digest: new Uint8Array(row.fingerprint) },
      response:
        row.status_code === PENDING
          ? undefined
          : {
              status: row.status_code,
              headers: stored?.headers ?? {},
              body: typeof stored?.body === 'string' ? (JSON.parse(stored.body) as unknown) : null,
            },
      ageSeconds: Number(row.age),
    };
  }

  /**
   * Takes over a pending claim left older than `staleSeconds` (its request died). Returns the new
   * claim's time, as `claim` does; undefined when another caller got it first.
   */
  async takeOver(orgId: OrgId, key: string, staleSeconds: number): Promise<Date | undefined> {
    const updated = await this.prisma.$queryRaw<{ created_at: Date | string }[]>`
      UPDATE idempotency_keys SET created_at = now()
       WHERE org_id = ${orgId} AND key = ${key} AND status_code = ${PENDING}
         AND created_at < now() - make_interval(secs => ${staleSeconds})
      RETURNING created_at`;
    return dateOf(updated[0]?.created_at);
  }

  /**
   * Stores the response, in the transaction that did the work: both commit or neither does. False
   * when the claim taken at `claimedAt` is no longer this request's (taken over as stale).
   */
  async complete(tx: Transaction, orgId: OrgId, key: string, claimedAt: Date, response: StoredResponse): Promise<boolean> {
    const { count } = await tx.idempotencyKey.updateMany({
      where: { orgId, key, createdAt: claimedAt, statusCode: PENDING },
      // The body as JSON text: jsonb would reorder its keys, and a replay sends what was sent.
      data: { statusCode: response.status, response: { headers: { ...response.headers }, body: JSON.stringify(response.body) } },
    });
    return count > 0;
  }

  /** Gives the pending claim taken at `claimedAt` back (its request failed and did nothing), so a retry can run. */
  async release(orgId: OrgId, key: string, claimedAt: Date): Promise<void> {
    await this.prisma.idempotencyKey.deleteMany({ where: { orgId, key, createdAt: claimedAt, statusCode: PENDING } });
  }

  /** Removes records older than `ttlSeconds`, every organization's, a batch at a time; returns how many. */
  async purgeExpired(ttlSeconds: number, batch: number): Promise<number> {
    return this.prisma.$executeRaw`
      DELETE FROM idempotency_keys WHERE ctid IN (
        SELECT ctid FROM idempotency_keys
         WHERE created_at < now() - make_interval(secs => ${ttlSeconds})
         LIMIT ${batch})`;
  }
}

// Raw queries may hand timestamps back as text, depending on the driver adapter.
function dateOf(value: Date | string | undefined): Date | undefined {
  return value === undefined ? undefined : new Date(value);
}

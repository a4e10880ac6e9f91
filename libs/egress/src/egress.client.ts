import type { Readable } from 'node:stream';
import { Inject, Injectable, type OnModuleDestroy, Optional } from '@nestjs/common';
import type { Agent } from 'undici';
import { request } from 'undici';
import { createEgressDispatcher, DEFAULT_EGRESS_LIMITS, type EgressLimits, type EgressTlsOptions } from './egress-dispatcher.js';
import { EgressError, EgressErrorCode } from './egress.error.js';
import { EgressPolicy } from './egress-policy.js';

/** Overrides for the dispatcher's limits (tests use short ones). */
export const EGRESS_LIMITS = Symbol('EGRESS_LIMITS');
/** Trust anchors for this client only (tests); not set in the product, which uses Node's store. */
export const EGRESS_TLS = Symbol('EGRESS_TLS');

export interface EgressRequest {
  readonly method: 'GET' | 'POST';
  /**
   * Parameters appended as the URL's query string, encoded here. The URL itself must have none:
   * it passes the base_url policy, which refuses a query a user could have written.
   */
  readonly query?: Readonly<Record<string, string>>;
  readonly headers?: Record<string, string>;
  readonly body?: string;
  readonly signal?: AbortSignal;
  /** Overrides the client's connect timeout for this call (per llm entry), rounded up to a CONNECT_TIMEOUT_STEPS_MS step. */
  readonly connectTimeoutMs?: number;
  /** Override the client's headers and body (silence) timeouts for this call. */
  readonly headersTimeoutMs?: number;
  readonly bodyTimeoutMs?: number;
}

/**
 * A connect timeout is a property of the connector, so each value needs a dispatcher (and its
 * connection pool) of its own. Values come from agent configuration, which any tenant writes, so
 * a requested timeout is rounded up to one of these: a fixed, small set of pools that tenants
 * share, never one per value.
 */
export const CONNECT_TIMEOUT_STEPS_MS = [250, 500, 1_000, 2_000, 3_000, 5_000, 10_000, 20_000, 30_000, 60_000] as const;

export interface EgressResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  /** Must be consumed or destroyed. Reading it may fail (size, silence): map with toEgressError, or use readText. */
  readonly body: Readable;
}

/** Every outbound HTTP call of the product goes through here (see test/egress-one-place). */
@Injectable()
export class EgressClient implements OnModuleDestroy {
  private readonly limits: EgressLimits;
  private readonly dispatcher: Agent;
  private readonly byConnectTimeout = new Map<number, Agent>();

  constructor(
    private readonly policy: EgressPolicy,
    @Optional() @Inject(EGRESS_LIMITS) limits?: Partial<EgressLimits>,
    @Optional() @Inject(EGRESS_TLS) private readonly tls?: EgressTlsOptions,
  ) {
    this.limits = { ...DEFAULT_EGRESS_LIMITS, ...limits };
    this.dispatcher = createEgressDispatcher(policy, this.limits, tls);
  }

  private dispatcherFor(connectTimeoutMs: number | undefined): Agent {
    if (connectTimeoutMs === undefined || connectTimeoutMs === this.limits.connectTimeoutMs) return this.dispatcher;
    const step = CONNECT_TIMEOUT_STEPS_MS.find((s) => s >= connectTimeoutMs) ?? CONNECT_TIMEOUT_STEPS_MS.at(-1)!;
    let dispatcher = this.byConnectTimeout.get(step);
    if (dispatcher === undefined) {
      dispatcher = createEgressDispatcher(this.policy, { ...this.limits, connectTimeoutMs: step }, this.tls);
      this.byConnectTimeout.set(step, dispatcher);
    }
    return dispatcher;
  }

  async request(url: string, init: EgressRequest): Promise<EgressResponse> {
    // Checked again here, not only when it was saved: the rules may have changed since.
    const verdict = this.policy.parse(url);
    if (!verdict.ok) {
      const code =
        verdict.code === 'https_required'
          ? EgressErrorCode.HttpsRequired
          : verdict.code === 'private_host'
            ? EgressErrorCode.PrivateHost
            : EgressErrorCode.InvalidUrl;
      throw new EgressError(code, `The upstream URL was refused (${verdict.code}).`);
    }
    let response;
    try {
      const target = init.query === undefined ? verdict.href : `${verdict.href}?${new URLSearchParams(init.query).toString()}`;
      response = await request(target, {
        dispatcher: this.dispatcherFor(init.connectTimeoutMs),
        method: init.method,
        headers: init.headers,
        body: init.body,
        signal: init.signal,
        ...(init.headersTimeoutMs === undefined ? {} : { headersTimeout: init.headersTimeoutMs }),
        ...(init.bodyTimeoutMs === undefined ? {} : { bodyTimeout: init.bodyTimeoutMs }),
      });
    } catch (error) {
      throw toEgressError(error);
    }
    if (response.statusCode >= 300 && response.statusCode < 400) {
      // Never followed: nothing (least of all the Authorization header) goes to the Location.
      // Destroying an undici body emits an abort error; nobody reads it, so it is swallowed here.
      response.body.once('error', () => undefined).destroy();
      throw new EgressError(
        EgressErrorCode.RedirectRefused,
        `The upstream answered ${response.statusCode} (a redirect), which is not followed.`,
      );
    }
    return { status: response.statusCode, headers: response.headers, body: response.body };
  }

  /** How many dispatchers exist for connect timeouts other than the default (for tests). */
  get extraDispatchers(): number {
    return this.byConnectTimeout.size;
  }

  async onModuleDestroy(): Promise<void> {
    await Promise.all([this.dispatcher, ...this.byConnectTimeout.values()].map((d) => d.close()));
  }
}

const UNDICI_CODES: Readonly<Record<string, EgressErrorCode>> = {
  UND_ERR_CONNECT_TIMEOUT: EgressErrorCode.ConnectTimeout,
  UND_ERR_HEADERS_TIMEOUT: EgressErrorCode.HeadersTimeout,
  UND_ERR_BODY_TIMEOUT: EgressErrorCode.BodyTimeout,
  UND_ERR_RES_EXCEEDED_MAX_SIZE: EgressErrorCode.ResponseTooLarge,
};

/** Maps transport failures to EgressError; an abort by the caller is passed through as it is. */
export function toEgressError(error: unknown): Error {
  if (error instanceof EgressError) return error;
  if (error instanceof Error && error.name === 'AbortError') return error;
  const code = (error as { code?: string }).code;
  const mapped = code === undefined ? undefined : UNDICI_CODES[code];
  return new EgressError(mapped ?? EgressErrorCode.ConnectionFailed, `The upstream call failed (${mapped ?? code ?? 'transport error'}).`, {
    cause: error,
  });
}

/** Reads a whole (bounded) response body as text, failures mapped like `request`'s. */
export async function readText(body: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of body) chunks.push(chunk as Buffer);
  } catch (error) {
    throw toEgressError(error);
  }
  return Buffer.concat(chunks).toString('utf8');
}

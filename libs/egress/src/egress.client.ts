import type { Readable } from 'node:stream';
import { Inject, Injectable, type OnModuleDestroy, Optional } from '@nestjs/common';
import type { Agent } from 'undici';
import { request } from 'undici';
import {
  type ConnectTrace,
  createEgressDispatcher,
  DEFAULT_EGRESS_LIMITS,
  type EgressLimits,
  type EgressTlsOptions,
} from './egress-dispatcher.js';
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

  request(url: string, init: EgressRequest): Promise<EgressResponse> {
    return this.send(url, init, this.dispatcherFor(init.connectTimeoutMs));
  }

  /**
   * One call on a connection of its own, each phase reported to `trace` as it completes: a
   * connection test times DNS, TCP and TLS, which a pooled connection would skip. The connection
   * is closed with the response body (or at once when the call fails).
   */
  async probe(url: string, init: EgressRequest, trace: ConnectTrace): Promise<EgressResponse> {
    const limits = init.connectTimeoutMs === undefined ? this.limits : { ...this.limits, connectTimeoutMs: init.connectTimeoutMs };
    const dispatcher = createEgressDispatcher(this.policy, limits, this.tls, trace);
    const discard = () => void dispatcher.destroy().catch(() => undefined);
    try {
      const response = await this.send(url, init, dispatcher);
      response.body.once('close', discard);
      return response;
    } catch (error) {
      discard();
      throw error;
    }
  }

  private async send(url: string, init: EgressRequest, dispatcher: Agent): Promise<EgressResponse> {
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
        dispatcher,
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

const TRANSPORT_CODES: Readonly<Record<string, EgressErrorCode>> = {
  UND_ERR_CONNECT_TIMEOUT: EgressErrorCode.ConnectTimeout,
  UND_ERR_HEADERS_TIMEOUT: EgressErrorCode.HeadersTimeout,
  UND_ERR_BODY_TIMEOUT: EgressErrorCode.BodyTimeout,
  UND_ERR_RES_EXCEEDED_MAX_SIZE: EgressErrorCode.ResponseTooLarge,
  ECONNREFUSED: EgressErrorCode.ConnectionRefused,
  // OpenSSL's verification results (X509_V_ERR_* without the prefix), as Node names them.
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: EgressErrorCode.TlsUntrusted,
  UNABLE_TO_GET_ISSUER_CERT: EgressErrorCode.TlsUntrusted,
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: EgressErrorCode.TlsUntrusted,
  SELF_SIGNED_CERT_IN_CHAIN: EgressErrorCode.TlsUntrusted,
  DEPTH_ZERO_SELF_SIGNED_CERT: EgressErrorCode.TlsUntrusted,
  CERT_UNTRUSTED: EgressErrorCode.TlsUntrusted,
  ERR_TLS_CERT_ALTNAME_INVALID: EgressErrorCode.TlsHostnameMismatch,
  CERT_HAS_EXPIRED: EgressErrorCode.TlsFailed,
  CERT_NOT_YET_VALID: EgressErrorCode.TlsFailed,
  CERT_REVOKED: EgressErrorCode.TlsFailed,
  CERT_REJECTED: EgressErrorCode.TlsFailed,
  EPROTO: EgressErrorCode.TlsFailed,
};

/** The egress code of a transport error's `code` (undici's, the socket's or OpenSSL's). */
function transportCode(code: string | undefined): EgressErrorCode {
  if (code === undefined) return EgressErrorCode.ConnectionFailed;
  // Handshake alerts and protocol mismatches: ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION and the like.
  return TRANSPORT_CODES[code] ?? (code.startsWith('ERR_SSL_') ? EgressErrorCode.TlsFailed : EgressErrorCode.ConnectionFailed);
}

/** Maps transport failures to EgressError; an abort by the caller is passed through as it is. */
export function toEgressError(error: unknown): Error {
  if (error instanceof EgressError) return error;
  if (error instanceof Error && error.name === 'AbortError') return error;
  const raw = (error as { code?: unknown }).code;
  const code = typeof raw === 'string' ? raw : undefined;
  const mapped = transportCode(code);
  return new EgressError(mapped, `The upstream call failed (${mapped}${code === undefined ? '' : `: ${code}`}).`, { cause: error });
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

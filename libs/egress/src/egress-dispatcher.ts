import { isIP, type Socket } from 'node:net';
import { createSecureContext } from 'node:tls';
import { Agent, buildConnector, errors } from 'undici';
import { EgressError, EgressErrorCode } from './egress.error.js';
import type { EgressPolicy } from './egress-policy.js';

export interface EgressLimits {
  readonly connectTimeoutMs: number;
  /** Time from sending the request to the end of the response headers. */
  readonly headersTimeoutMs: number;
  /** Longest silence between two chunks of the response body. */
  readonly bodyTimeoutMs: number;
  readonly maxResponseBytes: number;
}

export const DEFAULT_EGRESS_LIMITS: EgressLimits = {
  connectTimeoutMs: 10_000,
  headersTimeoutMs: 60_000,
  bodyTimeoutMs: 120_000,
  maxResponseBytes: 16 * 1024 * 1024,
};

export interface EgressTlsOptions {
  /**
   * Trust anchors that replace Node's default store for this dispatcher only (tests pass their
   * own CA). Operators who need an extra CA set NODE_EXTRA_CA_CERTS, which undici honors here.
   */
  readonly ca?: string | Buffer | (string | Buffer)[];
}

/**
 * Told when each phase of a connection completes (a probe's step report). Not called for a
 * pooled connection that is reused, so a probe uses a dispatcher of its own.
 */
export interface ConnectTrace {
  /** The host resolved and every address passed the policy. */
  resolved(addresses: readonly string[]): void;
  /** TCP connected to this address (called again if a later address is tried). */
  connected(address: string): void;
  /** The TLS handshake completed and the certificate was verified. */
  secured(): void;
}

/**
 * The only dispatcher outbound calls use. Its connector resolves the host itself, checks every
 * address against the policy, and connects to a checked address while TLS still verifies the
 * certificate against (and sends SNI for) the original name, so a DNS answer that changes
 * between check and connect cannot redirect the socket. It is a plain undici Agent: no proxy
 * variables are read, and redirects are not followed (undici only follows them when a redirect
 * interceptor is added).
 */
export function createEgressDispatcher(
  policy: EgressPolicy,
  limits: EgressLimits = DEFAULT_EGRESS_LIMITS,
  tls: EgressTlsOptions = {},
  trace?: ConnectTrace,
): Agent {
  // One context for every connection: building one parses the whole trust store (Node's, with
  // NODE_EXTRA_CA_CERTS, or the given CA), which tls.connect would otherwise do per connection.
  const secureContext = createSecureContext(tls.ca === undefined ? {} : { ca: tls.ca });
  const connectTo = buildConnector({ timeout: limits.connectTimeoutMs, secureContext });
  const connect: buildConnector.connector = (options, callback) => {
    if (options.protocol !== 'https:') {
      callback(new EgressError(EgressErrorCode.HttpsRequired, 'Outbound calls must use https.'), null);
      return;
    }
    const host = options.hostname.startsWith('[') ? options.hostname.slice(1, -1) : options.hostname;
    const port = options.port === '' || options.port === undefined ? 443 : Number(options.port);
    policy.addressesFor(host, port).then(
      (addresses) => {
        trace?.resolved(addresses);
        // Every address is checked by now; they are tried in turn, so a dual-stack host whose
        // first address is down still answers. The connect timeout bounds all attempts together:
        // each gets an even share of what is left, so one black hole cannot use it all up.
        const deadline = performance.now() + limits.connectTimeoutMs;
        const attempt = (index: number): void => {
          const left = addresses.length - index;
          const budget = Math.max(1, Math.round((deadline - performance.now()) / left));
          const address = addresses[index]!;
          let settled = false;
          const settle = (outcome: { socket: Socket } | { error: Error }): void => {
            settled = true;
            clearTimeout(timer);
            if ('socket' in outcome) callback(null, outcome.socket);
            else if (left > 1 && performance.now() < deadline) attempt(index + 1);
            else callback(outcome.error, null);
          };
          // The connector's own timer is the whole connect timeout; this one ends the attempt at
          // its share. A connection that completes after that is closed unused.
          const timer = setTimeout(
            () => settle({ error: new errors.ConnectTimeoutError(`Connect timeout (${address}, ${budget} ms)`) }),
            budget,
          );
          const socket = connectTo(
            {
              ...options,
              hostname: address,
              // Verify the certificate against the name asked for; an IP literal has no SNI.
              servername: isIP(host) === 0 ? host : undefined,
            },
            (error, connected) => {
              if (settled) connected?.destroy();
              else {
                if (error === null) trace?.secured();
                settle(error === null ? { socket: connected } : { error });
              }
            },
          ) as unknown as Socket | undefined;
          // The TLS socket says when its TCP connection is up, before the handshake.
          if (trace !== undefined) socket?.once('connect', () => !settled && trace.connected(address));
        };
        attempt(0);
      },
      (error: unknown) => callback(error instanceof Error ? error : new Error(String(error)), null),
    );
  };
  return new Agent({
    connect,
    headersTimeout: limits.headersTimeoutMs,
    bodyTimeout: limits.bodyTimeoutMs,
    maxResponseSize: limits.maxResponseBytes,
  });
}

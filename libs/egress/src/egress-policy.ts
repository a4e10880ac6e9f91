import { isIP } from 'node:net';
import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { APP_CONFIG, type AppConfig, type EgressAllowEntry } from '#agentplane/config';
import { DomainError } from '#agentplane/errors';
import { LOGGER, type Logger } from '#agentplane/logging';
import { classifyAddress } from './address-policy.js';
import { type AcceptedBaseUrl, type BaseUrlVerdict, checkBaseUrl, parseBaseUrl } from './base-url-policy.js';
import { EgressError, EgressErrorCode } from './egress.error.js';
import { HostResolver } from './host-resolver.js';

/**
 * The base_url policy with this process's allowlist and resolver: the parse-time rules, the
 * save-time DNS check, and the connect-time address check the dispatcher runs on every
 * connection.
 */
@Injectable()
export class EgressPolicy implements OnModuleInit {
  readonly allowlist: readonly EgressAllowEntry[];

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly resolver: HostResolver,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.allowlist = config.egressAllowlist;
  }

  onModuleInit(): void {
    if (this.allowlist.length === 0) return;
    this.logger.warn(
      { egress_allowlist: this.allowlist.map(formatEntry) },
      'AGENTPLANE_EGRESS_ALLOWLIST exempts these hosts from the public-host rule: for local development and tests only',
    );
  }

  /** The parse-time rules only, no DNS (the client checks every call's URL with them). */
  parse(raw: unknown): BaseUrlVerdict {
    return parseBaseUrl(raw, this.allowlist);
  }

  /** Parse-time rules, then DNS: every A/AAAA answer must be public, and there must be one. */
  check(raw: unknown): Promise<BaseUrlVerdict> {
    return checkBaseUrl(raw, (host) => this.resolver.resolve(host), this.allowlist);
  }

  /**
   * For services: checks a base_url field and throws a 422 naming `path` (like `llm[0].base_url`)
   * when it is refused. Returns the normalized URL to store.
   */
  async assertBaseUrl(raw: unknown, path: string): Promise<AcceptedBaseUrl> {
    const verdict = await this.check(raw);
    if (!verdict.ok) throw DomainError.validation([{ path, code: verdict.code, message: verdict.message }]);
    return verdict;
  }

  /**
   * What the dispatcher may connect to for `host:port`, resolved now (not at save time): every
   * address checked, IP literals included. Throws EgressError when none may be used.
   */
  async addressesFor(host: string, port: number): Promise<string[]> {
    const bare = host.startsWith('[') ? host.slice(1, -1) : host;
    const allowlisted = this.allowlist.some((e) => e.host === bare && (e.port === undefined || e.port === port));
    const addresses = isIP(bare) !== 0 ? [bare] : await this.resolver.resolve(bare);
    if (addresses.length === 0) throw new EgressError(EgressErrorCode.UnresolvableHost, 'The upstream host does not resolve.');
    if (!allowlisted) {
      const refused = addresses.filter((address) => !classifyAddress(address).public);
      if (refused.length > 0) {
        this.logger.warn({ host: bare, port, refused }, 'egress refused: the host resolves to a non-public address');
        throw new EgressError(EgressErrorCode.PrivateHost, 'The upstream host is not a public address.');
      }
    }
    return addresses;
  }
}

function formatEntry(entry: EgressAllowEntry): string {
  const host = entry.host.includes(':') ? `[${entry.host}]` : entry.host;
  return entry.port === undefined ? host : `${host}:${entry.port}`;
}

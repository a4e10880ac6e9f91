import { isIP } from 'node:net';
import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { APP_CONFIG, type AppConfig, type EgressAllowEntry, type PrivateNetwork } from '#agentplane/config';
import { DomainError } from '#agentplane/errors';
import { LOGGER, type Logger } from '#agentplane/logging';
import { isAllowedAddress } from './address-policy.js';
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
  readonly privateNetworks: readonly PrivateNetwork[];

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly resolver: HostResolver,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.allowlist = config.egressAllowlist;
    this.privateNetworks = config.egressPrivateNetworks;
  }

  onModuleInit(): void {
    if (this.privateNetworks.length > 0) {
      this.logger.info(
        { egress_private_networks: this.privateNetworks.map((n) => `${n.address}/${n.prefixLength}`) },
        'base_urls may resolve into these private networks (loopback, link-local and metadata addresses stay refused)',
      );
    }
    if (this.allowlist.length === 0) return;
    this.logger.warn(
      { egress_allowlist: this.allowlist.map(formatEntry) },
      'AGENTPLANE_EGRESS_ALLOWLIST exempts these hosts from the public-host rule: for local development and tests only',
    );
  }

  /** The parse-time rules only, no DNS (the client checks every call's URL with them). */
  parse(raw: unknown): BaseUrlVerdict {
    return parseBaseUrl(raw, this.allowlist, this.privateNetworks);
  }

  /** Parse-time rules, then DNS: every A/AAAA answer must be public (or in a private network listed), and there must be one. */
  check(raw: unknown): Promise<BaseUrlVerdict> {
    return checkBaseUrl(raw, (host) => this.resolver.resolve(host), this.allowlist, this.privateNetworks);
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
    let addresses: string[];
    try {
      addresses = isIP(bare) !== 0 ? [bare] : await this.resolver.resolve(bare);
    } catch (error) {
      // A resolver that fails outright (not "no such name") still leaves nothing to connect to.
      throw new EgressError(EgressErrorCode.UnresolvableHost, 'The upstream host name could not be resolved.', { cause: error });
    }
    if (addresses.length === 0) throw new EgressError(EgressErrorCode.UnresolvableHost, 'The upstream host does not resolve.');
    if (!allowlisted) {
      const refused = addresses.filter((address) => !isAllowedAddress(address, this.privateNetworks));
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

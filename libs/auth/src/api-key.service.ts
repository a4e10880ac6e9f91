import { Inject, Injectable } from '@nestjs/common';
import { Clock } from '#agentplane/clock';
import { type Page, pageRequest, ReadCache, UnitOfWork, type WriteEpoch } from '#agentplane/db';
import { DomainError } from '#agentplane/errors';
import { AuthError } from './auth.error.js';
import { LOGGER, type Logger } from '#agentplane/logging';
import { ApiKeyCrypto } from './api-key-crypto.js';
import { ApiKeyRepository } from './api-key.repository.js';
import { OrganizationRepository } from './organization.repository.js';
import type { AuthContext, OrgId } from './org-id.js';
import type { ApiKeySummary, Organization } from './organization.js';

export interface IssuedApiKey {
  readonly orgId: OrgId;
  readonly apiKeyId: string;
  /** The only time the key exists outside its holder's hands. */
  readonly apiKey: string;
}

const ORG_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
// Recording every use would turn each request into a write; a minute's precision is plenty.
const LAST_USED_PRECISION_MS = 60_000;
// A key found active is trusted this long without asking the database again: the bound on how late
// a revocation (made by the CLI, another process) reaches a running instance.
const ACTIVE_KEY_TTL_MS = 900;
const ACTIVE_KEY_MAX = 10_000;
// A key stops being active only through revoke() below, which forgets every cached key at once, or
// through another process, which the TTL bounds: the writes this process makes to agents,
// providers or credentials do not change a key, so they do not send the next request to the
// database.
const KEYS_CHANGE_ONLY_BY_REVOKE: WriteEpoch = { writeEpoch: 0 };

/** A key found active, and when this process last recorded its use. */
interface ActiveKey {
  readonly orgId: OrgId;
  readonly id: string;
  lastUsedAt: Date | null;
}

@Injectable()
export class ApiKeyService {
  /** By the hex of the key's hash (what the database looks it up by), never the key itself. */
  private readonly active: ReadCache<ActiveKey>;

  constructor(
    private readonly crypto: ApiKeyCrypto,
    private readonly apiKeys: ApiKeyRepository,
    private readonly organizations: OrganizationRepository,
    private readonly clock: Clock,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly uow: UnitOfWork,
  ) {
    this.active = new ReadCache(KEYS_CHANGE_ONLY_BY_REVOKE, { max: ACTIVE_KEY_MAX, ttlMs: ACTIVE_KEY_TTL_MS });
  }

  /** Issues a key for the named organization, creating the organization on first use. */
  async issue(orgName: string, keyName?: string): Promise<IssuedApiKey> {
    assertOrgName(orgName);
    const org = await this.organizations.findOrCreateByName(orgName);
    const { key, apiKey } = await this.issueFor(org.id, keyName);
    return { orgId: org.id, apiKeyId: key.id, apiKey };
  }

  async listForOrg(orgName: string): Promise<{ org: Organization; keys: ApiKeySummary[] }> {
    assertOrgName(orgName);
    const org = await this.organizations.findByName(orgName);
    if (org === undefined) throw DomainError.notFound(`Organization "${orgName}"`);
    return { org, keys: await this.apiKeys.list(org.id) };
  }

  /** Issues a key for an organization, as its own API caller asks (the CLI names the organization instead). */
  async issueFor(orgId: OrgId, keyName?: string): Promise<{ readonly key: ApiKeySummary; readonly apiKey: string }> {
    const generated = this.crypto.generate();
    const key = await this.apiKeys.create(orgId, { name: keyName ?? null, prefix: generated.prefix, hash: generated.hash });
    return { key, apiKey: generated.key };
  }

  async list(orgId: OrgId, limit: number, cursor?: string): Promise<Page<ApiKeySummary>> {
    return this.apiKeys.listPage(orgId, pageRequest(limit, cursor));
  }

  /**
   * Revokes a key of the organization, at once on this instance (and within ACTIVE_KEY_TTL_MS on
   * others). Its last active key is refused: the organization would be locked out of its own API.
   * Revoking a revoked key changes nothing.
   */
  async revokeFor(orgId: OrgId, apiKeyId: string): Promise<void> {
    await this.uow.transaction(async (tx) => {
      // Locked first, so two requests revoking the last two keys cannot both pass the check.
      const active = await this.apiKeys.lockActive(tx, orgId);
      if (!active.includes(apiKeyId)) {
        if (!(await this.apiKeys.exists(tx, orgId, apiKeyId))) throw DomainError.notFound('API key');
        return;
      }
      if (active.length === 1) throw AuthError.lastActiveApiKey();
      await this.apiKeys.revoke(tx, orgId, apiKeyId, this.clock.now());
    });
    this.active.clear();
  }

  async revoke(apiKeyId: string): Promise<ApiKeySummary> {
    const revoked = await this.apiKeys.revokeById(apiKeyId, this.clock.now());
    if (revoked === undefined) throw DomainError.notFound(`API key "${apiKeyId}"`);
    // Found by hash, not id: forget them all, so this process stops accepting the key at once.
    this.active.clear();
    return revoked;
  }

  /**
   * Resolves an `Authorization` header to its caller, or throws `unauthenticated`. Every failure
   * throws the same error; the only work skipped early is for input that is not even shaped like
   * a key, which tells an attacker nothing they did not send.
   */
  async authenticate(authorization: string | undefined): Promise<AuthContext> {
    const match = /^Bearer +(\S+)$/i.exec(authorization ?? '');
    const presented = match?.[1];
    if (presented === undefined || !this.crypto.isWellFormed(presented)) throw AuthError.unauthenticated();
    // An exact match on a 256-bit hash: no prefix of the secret is ever compared.
    const hash = this.crypto.hash(presented);
    const found = await this.active.get(Buffer.from(hash).toString('hex'), async () => {
      const row = await this.apiKeys.findActiveByHash(hash);
      return row === undefined ? undefined : { orgId: row.orgId, id: row.id, lastUsedAt: row.lastUsedAt };
    });
    if (found === undefined) throw AuthError.unauthenticated();
    const now = this.clock.now();
    const notBefore = new Date(now.getTime() - LAST_USED_PRECISION_MS);
    if (found.lastUsedAt === null || found.lastUsedAt < notBefore) {
      found.lastUsedAt = now;
      const id = found.id;
      // Bookkeeping: a failure here must not turn a valid request into an error.
      await this.apiKeys.recordUse(id, now, notBefore).catch((error: unknown) => {
        this.logger.warn({ err: error, api_key_id: id }, 'could not record API key use');
      });
    }
    return { orgId: found.orgId, apiKeyId: found.id };
  }
}

function assertOrgName(name: string): void {
  if (!ORG_NAME.test(name)) {
    throw DomainError.validation([
      {
        path: 'org',
        code: 'invalid_org_name',
        message: 'must be 1-100 characters of letters, digits, ".", "_" or "-", starting with a letter or digit',
      },
    ]);
  }
}

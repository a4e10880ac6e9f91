import { Inject, Injectable } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import type { OrgId } from '#agentplane/auth';
import { Clock } from '#agentplane/clock';
import { newId, type Page, pageRequest, type Transaction, UnitOfWork } from '#agentplane/db';
import { DomainError, type FieldError } from '#agentplane/errors';
import { looksMasked, SecretSealer, SecretUnavailableError, secretHint } from '#agentplane/keys';
import { LOGGER, type Logger } from '#agentplane/logging';
import { type Credential, type LoadedCredential, sealedCredentialOf } from './credential.js';
import { type CredentialReference, CredentialRepository, credentialSecretContext, type KeyOwner } from './credential.repository.js';
import { CredentialsError, CredentialsErrorCode } from './credentials.error.js';
import { isOriginAllowed, normalizeOrigin } from './origins.js';

export interface CredentialInput {
  readonly name: string;
  readonly allowedOrigins: readonly string[];
}

export interface CreateCredentialInput extends CredentialInput {
  readonly apiKey: string;
}

/** A replacement; without `apiKey` the stored key is kept (only for origins it already had). */
export interface ReplaceCredentialInput extends CredentialInput {
  readonly apiKey?: string;
}

/** An inline key of an agent's llm entry, to be stored owned by the agent. */
export interface OwnedKeyInput {
  readonly apiKey: string;
  /** The only origin the key may be sent to: its entry's. */
  readonly origin: string;
  /** Names the stored credential, e.g. `llm[0] key`. */
  readonly name: string;
  /** The request field it came from, for errors, e.g. `llm[0].api_key`. */
  readonly field: string;
}

export type CredentialRefs = ReadonlyMap<string, CredentialReference>;

// Recording every use would make each outbound call a write; a minute's precision is plenty.
const LAST_USED_PRECISION_MS = 60_000;
const RECORDED_MAX = 10_000;

/** The rules for credentials: a secret is sealed on the way in, and only ever leaves to its origins. */
@Injectable()
export class CredentialsService {
  /**
   * When this process last recorded each credential's use: a credential read a while ago (an
   * agent served again from its cache) still says when it was last used as of that read.
   */
  private readonly recorded = new LRUCache<string, Date>({ max: RECORDED_MAX, ttl: LAST_USED_PRECISION_MS });

  constructor(
    private readonly credentials: CredentialRepository,
    private readonly sealer: SecretSealer,
    private readonly uow: UnitOfWork,
    private readonly clock: Clock,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async create(orgId: OrgId, input: CreateCredentialInput): Promise<Credential> {
    const allowedOrigins = normalizeOrigins(input.allowedOrigins);
    assertNotMasked(input.apiKey, 'api_key');
    const id = newId('cred');
    return this.credentials.insert(orgId, { id, name: input.name, allowedOrigins, ...this.sealed(orgId, id, input.apiKey) });
  }

  async list(orgId: OrgId, limit: number, cursor?: string): Promise<Page<Credential>> {
    return this.credentials.list(orgId, pageRequest(limit, cursor));
  }

  async get(orgId: OrgId, id: string): Promise<Credential> {
    return (await this.credentials.find(orgId, id)) ?? notFound();
  }

  async replace(orgId: OrgId, id: string, input: ReplaceCredentialInput): Promise<Credential> {
    const allowedOrigins = normalizeOrigins(input.allowedOrigins);
    if (input.apiKey !== undefined) assertNotMasked(input.apiKey, 'api_key');
    const secret = input.apiKey === undefined ? undefined : this.sealed(orgId, id, input.apiKey);
    return this.uow.transaction(async (tx) => {
      const current = (await this.credentials.lockForUpdate(tx, orgId, id)) ?? notFound();
      // A stored key is never sent to a host it was not given for: widening needs the key again.
      const added = allowedOrigins.filter((o) => !current.allowedOrigins.includes(o));
      if (secret === undefined && added.length > 0) {
        throw new CredentialsError(
          CredentialsErrorCode.ApiKeyRequired,
          `Send api_key again to allow ${added.join(', ')}: a stored key only goes to the origins it was given for.`,
          [{ path: 'api_key', code: CredentialsErrorCode.ApiKeyRequired, message: 'is required when allowed_origins adds an origin' }],
        );
      }
      return this.credentials.update(
        tx,
        orgId,
        id,
        { name: input.name, allowedOrigins, ...(secret === undefined ? {} : { secret }) },
        this.clock.now(),
      );
    });
  }

  /**
   * Deletes a credential unless something uses it; with `force`, agents' entries that use it go in
   * the same transaction. A provider's key is never deleted from under it, force or not.
   */
  async delete(orgId: OrgId, id: string, force: boolean): Promise<void> {
    await this.uow.transaction(async (tx) => {
      if (!(await this.credentials.lockForDelete(tx, orgId, id))) notFound();
      if (await this.credentials.isProviderKey(tx, orgId, id)) {
        throw new CredentialsError(
          CredentialsErrorCode.CredentialInUse,
          'The credential is the key of a provider. Give the provider another key first; force does not delete providers.',
        );
      }
      if (force) {
        await this.credentials.deleteReferences(tx, orgId, id);
      } else if (await this.credentials.isReferenced(tx, orgId, id)) {
        throw new CredentialsError(
          CredentialsErrorCode.CredentialInUse,
          'The credential is in use. Remove it from what uses it first, or delete with force=true to remove those uses too.',
        );
      }
      await this.credentials.delete(tx, orgId, id);
    });
  }

  // --- For resources that hold keys (an agent's llm entries), inside their own transaction. ---

  /**
   * The org's credentials among `ids`, share-locked until `tx` ends: none can be re-pointed at
   * other origins or deleted while a resource starts (or keeps) referring to it.
   */
  referencesFor(tx: Transaction, orgId: OrgId, ids: readonly string[]): Promise<CredentialRefs> {
    return this.credentials.lockForReference(tx, orgId, ids);
  }

  /** Seals and stores a key given inline, owned by `owner` and allowed only for its endpoint's origin. Returns its id. */
  async storeOwnedKey(tx: Transaction, orgId: OrgId, owner: KeyOwner, key: OwnedKeyInput): Promise<string> {
    assertNotMasked(key.apiKey, key.field);
    const id = newId('cred');
    await this.credentials.insert(
      orgId,
      { id, name: key.name, allowedOrigins: [key.origin], owner, ...this.sealed(orgId, id, key.apiKey) },
      tx,
    );
    return id;
  }

  /** Deletes the keys `owner` owns that are not in `keep`. */
  deleteOwnedKeysExcept(tx: Transaction, orgId: OrgId, owner: KeyOwner, keep: readonly string[]): Promise<void> {
    return this.credentials.deleteOwnedExcept(tx, orgId, owner, keep);
  }

  /**
   * The only way a credential's secret leaves storage: for a call to `target`, which must be one
   * of its allowed origins, and only for the duration of `use`. The credential is an id to load,
   * or one already loaded with what uses it.
   */
  withSecret<T>(
    orgId: OrgId,
    credentialRef: string | LoadedCredential,
    target: string | URL,
    use: (apiKey: string) => Promise<T> | T,
  ): Promise<T> {
    return this.withSecrets(orgId, [credentialRef], target, ([apiKey]) => use(apiKey!));
  }

  /**
   * withSecret for several credentials sent in one call (a key and secret headers): every one is
   * checked before any is opened, and `use` gets their secrets in the order of `credentialRefs`.
   */
  async withSecrets<T>(
    orgId: OrgId,
    credentialRefs: readonly (string | LoadedCredential)[],
    target: string | URL,
    use: (secrets: readonly string[]) => Promise<T> | T,
  ): Promise<T> {
    const credentials = await Promise.all(
      credentialRefs.map(async (ref) =>
        typeof ref === 'string' ? ((await this.credentials.findSealed(orgId, ref)) ?? notFound()) : sealedCredentialOf(ref),
      ),
    );
    for (const credential of credentials) {
      // The sealed record's associated data names its org too; this says so before opening.
      if (credential.orgId !== orgId) notFound();
      if (!isOriginAllowed(credential.allowedOrigins, target)) {
        throw new CredentialsError(
          CredentialsErrorCode.CredentialOriginNotAllowed,
          `Credential "${credential.id}" may only be sent to ${credential.allowedOrigins.join(', ')}.`,
        );
      }
    }
    const opened = new Map<string, Credential>();
    const secrets: string[] = [];
    // Nested, so every plaintext is zeroed when `use` is done, whichever way it ends.
    const openFrom = (index: number): Promise<T> => {
      const credential = credentials[index];
      if (credential === undefined) return Promise.resolve(use(secrets));
      return this.sealer.withPlaintext(credential.sealed, credentialSecretContext(orgId, credential.id), (secret) => {
        opened.set(credential.id, credential);
        secrets.push(secret);
        return openFrom(index + 1);
      });
    };
    try {
      return await openFrom(0);
    } catch (error) {
      if (error instanceof SecretUnavailableError) {
        throw new CredentialsError(CredentialsErrorCode.CredentialUnavailable, 'The stored credential could not be opened.');
      }
      throw error;
    } finally {
      // Once the plaintexts are gone (no database round trip while they exist), and only for the
      // records that opened: one that does not open is not reported as used.
      for (const credential of opened.values()) await this.recordUse(credential);
    }
  }

  private sealed(orgId: OrgId, id: string, apiKey: string) {
    return { apiKeyHint: secretHint(apiKey), sealed: this.sealer.seal(apiKey, credentialSecretContext(orgId, id)) };
  }

  private async recordUse(credential: Credential): Promise<void> {
    const now = this.clock.now();
    const notBefore = new Date(now.getTime() - LAST_USED_PRECISION_MS);
    if (credential.lastUsedAt !== null && credential.lastUsedAt >= notBefore) return;
    const recorded = this.recorded.get(credential.id);
    if (recorded !== undefined && recorded >= notBefore) return;
    this.recorded.set(credential.id, now);
    // Bookkeeping: a failure here must not fail the call that needs the key.
    await this.credentials.recordUse(credential.orgId, credential.id, now, notBefore).catch((error: unknown) => {
      this.logger.warn({ err: error, credential_id: credential.id }, 'could not record credential use');
    });
  }
}

function normalizeOrigins(raw: readonly string[]): string[] {
  const errors: FieldError[] = [];
  const origins: string[] = [];
  raw.forEach((value, index) => {
    const result = normalizeOrigin(value);
    if ('problem' in result) errors.push({ path: `allowed_origins[${index}]`, code: result.problem, message: result.message });
    else if (!origins.includes(result.origin)) origins.push(result.origin);
  });
  if (errors.length > 0) throw DomainError.validation(errors);
  return origins;
}

/**
 * A hint sent back where a real key belongs: storing it would replace the key with its own mask.
 * `errors` name each field that holds one.
 */
export function maskedKeyError(errors: readonly FieldError[]): CredentialsError {
  return new CredentialsError(
    CredentialsErrorCode.MaskedValueSubmitted,
    'api_key holds a masked hint, not a key. Send the real key, or leave api_key out to keep the stored one.',
    errors,
  );
}

/** The field error for a masked key at `path`. */
export function maskedKeyField(path: string): FieldError {
  return { path, code: CredentialsErrorCode.MaskedValueSubmitted, message: 'is a masked hint, not a key' };
}

function assertNotMasked(apiKey: string, path: string): void {
  if (looksMasked(apiKey)) throw maskedKeyError([maskedKeyField(path)]);
}

// The id is not repeated: whatever a client put in the path stays out of the response.
function notFound(): never {
  throw DomainError.notFound('Credential');
}

import { Inject, Injectable } from '@nestjs/common';
import type { OrgId } from '@agentplane/auth';
import { Clock } from '@agentplane/clock';
import { decodeCursor, encodeCursor, newId } from '@agentplane/db';
import { DomainError, ErrorCode, type FieldError } from '@agentplane/errors';
import { LOGGER, type Logger } from '@agentplane/logging';
import { CREDENTIAL_SECRET_FIELD, type Credential, type CredentialPage, type LoadedCredential, sealedCredentialOf } from './credential.js';
import { CredentialRepository, type NewCredential } from './credential.repository.js';
import { apiKeyHint, looksMasked } from './masking.js';
import { isOriginAllowed, normalizeOrigin } from './origins.js';
import type { SecretContext } from './secret-context.js';
import { SecretSealer } from './secret-sealer.js';

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

// Recording every use would make each outbound call a write; a minute's precision is plenty.
const LAST_USED_PRECISION_MS = 60_000;

/** The rules for credentials: a secret is sealed on the way in, and only ever leaves to its origins. */
@Injectable()
export class CredentialsService {
  constructor(
    private readonly credentials: CredentialRepository,
    private readonly sealer: SecretSealer,
    private readonly clock: Clock,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async create(orgId: OrgId, input: CreateCredentialInput): Promise<Credential> {
    const allowedOrigins = normalizeOrigins(input.allowedOrigins);
    assertNotMasked(input.apiKey);
    const id = newId('cred');
    return this.credentials.create(orgId, {
      id,
      name: input.name,
      allowedOrigins,
      apiKeyHint: apiKeyHint(input.apiKey),
      sealed: this.sealer.seal(input.apiKey, secretContext(orgId, id)),
    });
  }

  /**
   * Seals a key given inline for one origin (an agent's llm entry) without storing it: the agent
   * stores it in the transaction that stores the agent. Nothing here touches the database.
   */
  sealForOrigin(orgId: OrgId, apiKey: string, origin: string, name: string): NewCredential {
    assertNotMasked(apiKey);
    const id = newId('cred');
    return {
      id,
      name,
      allowedOrigins: [origin],
      apiKeyHint: apiKeyHint(apiKey),
      sealed: this.sealer.seal(apiKey, secretContext(orgId, id)),
    };
  }

  async list(orgId: OrgId, limit: number, cursor?: string): Promise<CredentialPage> {
    let after;
    if (cursor !== undefined) {
      after = decodeCursor(cursor);
      if (after === undefined) throw new DomainError(ErrorCode.InvalidCursor, 'The cursor is not one this API issued.');
    }
    const { rows, hasMore } = await this.credentials.list(orgId, limit, after);
    const last = rows.at(-1);
    return { data: rows, hasMore, nextCursor: hasMore && last !== undefined ? encodeCursor(last) : null };
  }

  async get(orgId: OrgId, id: string): Promise<Credential> {
    return (await this.credentials.find(orgId, id)) ?? notFound(id);
  }

  async replace(orgId: OrgId, id: string, input: ReplaceCredentialInput): Promise<Credential> {
    const allowedOrigins = normalizeOrigins(input.allowedOrigins);
    const apiKey = input.apiKey;
    if (apiKey !== undefined) assertNotMasked(apiKey);
    const updated = await this.credentials.replace(orgId, id, this.clock.now(), (current) => {
      if (apiKey === undefined) {
        // A stored key is never sent to a host it was not given for: widening needs the key again.
        const added = allowedOrigins.filter((o) => !current.allowedOrigins.includes(o));
        if (added.length > 0) {
          throw new DomainError(
            ErrorCode.ApiKeyRequired,
            `Send api_key again to allow ${added.join(', ')}: a stored key only goes to the origins it was given for.`,
            [{ path: 'api_key', code: ErrorCode.ApiKeyRequired, message: 'is required when allowed_origins adds an origin' }],
          );
        }
        return { name: input.name, allowedOrigins };
      }
      return {
        name: input.name,
        allowedOrigins,
        secret: { apiKeyHint: apiKeyHint(apiKey), sealed: this.sealer.seal(apiKey, secretContext(orgId, id)) },
      };
    });
    return updated ?? notFound(id);
  }

  async delete(orgId: OrgId, id: string, force: boolean): Promise<void> {
    const outcome = await this.credentials.delete(orgId, id, force);
    if (outcome === 'not_found') notFound(id);
    if (outcome === 'in_use') {
      throw new DomainError(
        ErrorCode.CredentialInUse,
        'The credential is in use. Remove it from what uses it first, or delete with force=true to remove those uses too.',
      );
    }
  }

  /**
   * The only way a credential's secret leaves storage: for a call to `target`, which must be one
   * of its allowed origins, and only for the duration of `use`. The credential is an id to load,
   * or one already loaded with what uses it.
   */
  async withSecret<T>(orgId: OrgId, credentialRef: string | LoadedCredential, target: string | URL, use: (apiKey: string) => Promise<T> | T): Promise<T> {
    const credential =
      typeof credentialRef === 'string' ? ((await this.credentials.findSealed(orgId, credentialRef)) ?? notFound(credentialRef)) : sealedCredentialOf(credentialRef);
    // The sealed record's associated data names its org too; this says so before opening.
    if (credential.orgId !== orgId) notFound(credential.id);
    const id = credential.id;
    if (!isOriginAllowed(credential.allowedOrigins, target)) {
      throw new DomainError(
        ErrorCode.CredentialOriginNotAllowed,
        `Credential "${id}" may only be sent to ${credential.allowedOrigins.join(', ')}.`,
      );
    }
    let opened = false;
    try {
      return await this.sealer.withPlaintext(credential.sealed, secretContext(orgId, id), (apiKey) => {
        opened = true;
        return use(apiKey);
      });
    } finally {
      // Once the plaintext is gone (no database round trip while it exists), and only if the
      // record opened: one that does not open is not reported as used.
      if (opened) await this.recordUse(credential);
    }
  }

  private async recordUse(credential: Credential): Promise<void> {
    const now = this.clock.now();
    const notBefore = new Date(now.getTime() - LAST_USED_PRECISION_MS);
    if (credential.lastUsedAt !== null && credential.lastUsedAt >= notBefore) return;
    // Bookkeeping: a failure here must not fail the call that needs the key.
    await this.credentials.recordUse(credential.orgId, credential.id, now, notBefore).catch((error: unknown) => {
      this.logger.warn({ err: error, credential_id: credential.id }, 'could not record credential use');
    });
  }
}

export function secretContext(orgId: string, credentialId: string): SecretContext {
  return { orgId, ownerId: credentialId, field: CREDENTIAL_SECRET_FIELD };
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

function assertNotMasked(apiKey: string): void {
  if (looksMasked(apiKey)) {
    throw new DomainError(
      ErrorCode.MaskedValueSubmitted,
      'api_key holds a masked hint, not a key. Send the real key, or leave api_key out to keep the stored one.',
      [{ path: 'api_key', code: ErrorCode.MaskedValueSubmitted, message: 'is a masked hint, not a key' }],
    );
  }
}

// The id is not repeated: whatever a client put in the path stays out of the response.
function notFound(_id: string): never {
  throw DomainError.notFound('Credential');
}

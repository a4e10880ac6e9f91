import { Injectable } from '@nestjs/common';
import type { OrgId } from '#agentplane/auth';
import { Clock } from '#agentplane/clock';
import {
  type EtagCondition,
  etagMatches,
  newId,
  type Page,
  pageRequest,
  type Transaction,
  UnitOfWork,
  updateWithRetries,
} from '#agentplane/db';
import { EndpointsService, throwFieldErrors } from '#agentplane/endpoints';
import { DomainError } from '#agentplane/errors';
import { IdempotencyService, type IdempotentRequest, type StoredResponse } from '#agentplane/idempotency';
import { type Provider, providerEtag, type ProviderInput } from './provider.js';
import { ProviderRepository } from './provider.repository.js';
import { ProvidersError, ProvidersErrorCode } from './providers.error.js';

/** A create sent with an Idempotency-Key, and how its response looks, to be stored for replays. */
export interface IdempotentProviderCreate extends IdempotentRequest {
  readonly present: (provider: Provider) => StoredResponse;
}

export type ProviderCreateResult = { readonly provider: Provider } | { readonly replay: StoredResponse };

/**
 * The rules for providers: an endpoint with a name and a model map, its key and secret headers
 * sealed for it under the same rules as an agent's inline entries, deleted only when no agent uses
 * it (or, with force, together with those uses).
 */
@Injectable()
export class ProvidersService {
  constructor(
    private readonly providers: ProviderRepository,
    private readonly endpoints: EndpointsService,
    private readonly idempotency: IdempotencyService,
    private readonly uow: UnitOfWork,
    private readonly clock: Clock,
  ) {}

  async create(orgId: OrgId, input: ProviderInput, idempotent?: IdempotentProviderCreate): Promise<ProviderCreateResult> {
    const outcome = await this.idempotency.run(orgId, idempotent, async (complete) => {
      const { checked, errors } = await this.endpoints.check([{ at: '', endpoint: input }]);
      throwFieldErrors(errors);
      return this.uow.transaction(async (tx) => {
        const id = newId('prv');
        const now = this.clock.now();
        // The row comes first: the key and secret headers are stored as credentials it owns.
        await this.providers.insert(tx, orgId, id, { ...input, baseUrl: checked[0]!.endpoint.baseUrl }, now);
        const [stored] = await this.endpoints.store(tx, orgId, { providerId: id }, checked, [undefined]);
        await this.providers.update(tx, orgId, id, { ...stored!, name: input.name, modelMap: input.modelMap }, now, false);
        const provider = await this.providers.read(tx, orgId, id);
        if (complete !== undefined) await complete(tx, idempotent!.present(provider));
        return provider;
      });
    });
    return 'replay' in outcome ? outcome : { provider: outcome.result };
  }

  list(orgId: OrgId, limit: number, cursor?: string): Promise<Page<Provider>> {
    return this.providers.list(orgId, pageRequest(limit, cursor));
  }

  async get(orgId: OrgId, id: string): Promise<Provider> {
    return (await this.providers.find(orgId, id)) ?? notFound();
  }

  /**
   * Replaces the whole provider. Without api_key or credential_id the stored key is kept, and a
   * secret header without a value keeps its stored one, but only while the origin is the same.
   * Every agent that uses the provider uses the new settings from its next reply.
   */
  async replace(orgId: OrgId, id: string, input: ProviderInput, ifMatch?: EtagCondition): Promise<Provider> {
    const { checked, errors } = await this.endpoints.check([{ at: '', endpoint: input }]);
    throwFieldErrors(errors);
    return this.uow.transaction(async (tx) => {
      const current = (await this.providers.lockForUpdate(tx, orgId, id)) ?? notFound();
      if (ifMatch !== undefined && !etagMatches(ifMatch, providerEtag(current))) throw DomainError.preconditionFailed('provider');
      const [stored] = await this.endpoints.store(tx, orgId, { providerId: id }, checked, [current]);
      await this.providers.update(tx, orgId, id, { ...stored!, name: input.name, modelMap: input.modelMap }, this.clock.now(), true);
      await this.endpoints.deleteUnusedKeys(tx, orgId, { providerId: id }, [stored!]);
      return this.providers.read(tx, orgId, id);
    });
  }

  /**
   * A partial update: `change` turns the provider as it is into the whole input to store, under the
   * rules of `replace`; if the provider changes before the write, it is read and changed again.
   */
  async update(
    orgId: OrgId,
    id: string,
    change: (current: Provider) => Promise<ProviderInput>,
    ifMatch?: EtagCondition,
  ): Promise<Provider> {
    return updateWithRetries(
      {
        read: () => this.get(orgId, id),
        etagOf: providerEtag,
        write: async (current, etag) => this.replace(orgId, id, await change(current), etag),
        resource: 'provider',
        sleep: (ms) => this.clock.sleep(ms),
      },
      ifMatch,
    );
  }

  /**
   * Deletes the provider and the keys it owns, unless an agent uses it (409 provider_in_use); with
   * `force`, the llm entries that use it go in the same transaction and those agents move to their
   * next version.
   */
  async delete(orgId: OrgId, id: string, force: boolean, ifMatch?: EtagCondition): Promise<void> {
    await this.uow.transaction(async (tx) => {
      const current = (await this.providers.lockForUpdate(tx, orgId, id)) ?? notFound();
      if (ifMatch !== undefined && !etagMatches(ifMatch, providerEtag(current))) throw DomainError.preconditionFailed('provider');
      const users = await this.providers.usedBy(tx, orgId, id);
      if (users.length > 0 && !force) {
        throw new ProvidersError(
          ProvidersErrorCode.ProviderInUse,
          `The provider is used by ${users.length} agent(s). Remove it from their llm entries first, or delete with force=true to remove those entries too.`,
        );
      }
      await this.providers.deleteUses(tx, orgId, id, users, this.clock.now());
      await this.providers.delete(tx, orgId, id);
    });
  }

  /** Which of `ids` are providers of the organization, share-locked until `tx` ends (for agents that use them). */
  referencesFor(tx: Transaction, orgId: OrgId, ids: readonly string[]): Promise<Set<string>> {
    return this.providers.lockForReference(tx, orgId, ids);
  }
}

function notFound(): never {
  throw DomainError.notFound('Provider');
}

import { DomainError } from '#agentplane/errors';

export enum ProvidersErrorCode {
  /** The provider is used by agents' llm entries: remove those first, or delete with force. */
  ProviderInUse = 'provider_in_use',
}

export class ProvidersError extends DomainError<ProvidersErrorCode> {}

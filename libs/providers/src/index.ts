export { ProvidersModule } from './providers.module.js';
export { ProvidersService, type IdempotentProviderCreate, type ProviderCreateResult } from './providers.service.js';
export { ProvidersError, ProvidersErrorCode } from './providers.error.js';
export { mappedModel, MODEL_MAP_MAX_PAIRS, providerEtag, type Provider, type ProviderInput } from './provider.js';

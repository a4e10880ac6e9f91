export { AuthModule } from './auth.module.js';
export { ApiKeyGuard, type AuthenticatedRequest } from './api-key.guard.js';
export { ApiKeyService, type IssuedApiKey } from './api-key.service.js';
export { ApiKeyCrypto, API_KEY_PREFIX } from './api-key-crypto.js';
export { OrganizationService } from './organization.service.js';
export { CurrentAuth } from './current-auth.decorator.js';
export { Public } from './public.decorator.js';
export { asOrgId, type AuthContext, type OrgId } from './org-id.js';
export type { ApiKeySummary, Organization } from './organization.js';

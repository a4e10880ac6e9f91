export { IdempotencyModule } from './idempotency.module.js';
export {
  IDEMPOTENCY_TTL_SECONDS,
  IdempotencyService,
  type ClaimOutcome,
  type IdempotencyClaim,
  type IdempotentRequest,
} from './idempotency.service.js';
export { IdempotencyPurger } from './idempotency-purger.js';
export type { StoredResponse } from './idempotency.repository.js';

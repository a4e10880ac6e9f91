export { EgressModule } from './egress.module.js';
export { EgressPolicy } from './egress-policy.js';
export {
  CONNECT_TIMEOUT_STEPS_MS,
  EgressClient,
  EGRESS_LIMITS,
  EGRESS_TLS,
  readText,
  toEgressError,
  type EgressRequest,
  type EgressResponse,
} from './egress.client.js';
export {
  type ConnectTrace,
  createEgressDispatcher,
  DEFAULT_EGRESS_LIMITS,
  type EgressLimits,
  type EgressTlsOptions,
} from './egress-dispatcher.js';
export { EgressError, EgressErrorCode } from './egress.error.js';
export { HostResolver, SystemHostResolver } from './host-resolver.js';
export { classifyAddress, type AddressVerdict } from './address-policy.js';
export {
  parseBaseUrl,
  checkBaseUrl,
  type ResolveHost,
  BASE_URL_REJECTION_CODES,
  type AcceptedBaseUrl,
  type BaseUrlRejection,
  type BaseUrlRejectionCode,
  type BaseUrlVerdict,
} from './base-url-policy.js';

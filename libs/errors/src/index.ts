export { CommonErrorCode } from './common-error-code.js';
export { CommonError, DomainError, type FieldError } from './domain.error.js';

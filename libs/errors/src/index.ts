export { ErrorCode } from './error-code.js';
export { DomainError, type FieldError } from './domain.error.js';

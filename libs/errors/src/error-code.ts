/**
 * Every failure the product reports on purpose. The HTTP mapping lives in one exhaustive switch
 * (apps/api problem-details filter): adding a code without a mapping fails to compile.
 */
export enum ErrorCode {
  Unauthenticated = 'unauthenticated',
  NotFound = 'not_found',
  ValidationFailed = 'validation_failed',
  DatabaseUnavailable = 'database_unavailable',
}

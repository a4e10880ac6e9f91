export { createLogger, type Logger, type LoggerOptions } from './create-logger.js';
export { PinoNestLogger } from './nest-logger.js';
export { LoggingModule } from './logging.module.js';
export { LOGGER } from './logger.token.js';
export { REDACTED, SECRET_FIELD_NAMES } from './redaction.js';

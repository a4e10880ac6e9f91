export type {
  AppConfig,
  EgressAllowEntry,
  LogLevel,
  MasterKey,
  MetricsListenerConfig,
  PrivateNetwork,
  StorageConfig,
} from './app-config.js';
export { ConfigError, type ConfigProblem } from './config.error.js';
export { loadConfig, parseMasterKeyList, type Environment } from './load-config.js';
export { ConfigModule } from './config.module.js';
export { APP_CONFIG } from './config.token.js';

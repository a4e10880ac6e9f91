export { Metrics, type MetricsOptions, type PoolUse } from './metrics.js';
export { MetricsModule } from './metrics.module.js';
export { MetricsServer } from './metrics-server.js';

export { Metrics, type MetricsOptions, type PoolUse } from './metrics.js';

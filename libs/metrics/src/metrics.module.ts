import { Module } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '#agentplane/config';
import { DatabaseConnection } from '#agentplane/db';
import { Metrics } from './metrics.js';
import { MetricsServer } from './metrics-server.js';

/** The process's metrics and their listener. Needs ConfigModule, LoggingModule, DbModule. */
@Module({
  providers: [
    {
      provide: Metrics,
      inject: [APP_CONFIG, DatabaseConnection],
      useFactory: (config: AppConfig, connection: DatabaseConnection) => {
        const metrics = new Metrics({ process: config.metrics !== null });
        const pool = connection.pool;
        // pg's own default when no max is given.
        metrics.watchPool(() => ({ open: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount, max: pool.options.max ?? 10 }));
        return metrics;
      },
    },
    MetricsServer,
  ],
  exports: [Metrics, MetricsServer],
})
export class MetricsModule {}

import { type DynamicModule, Global, Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { PrismaPg } from '@prisma/adapter-pg';
import type { Logger } from 'pino';
import { APP_CONFIG, type AppConfig } from '#agentplane/config';
import { LOGGER } from '#agentplane/logging';
import { DatabaseConnection, type ConnectOptions } from './database-connection.js';
import { DatabaseHealth } from './database-health.js';
import { PrismaService } from './prisma.service.js';
import { UnitOfWork } from './unit-of-work.js';

@Global()
@Module({})
export class DbModule implements OnApplicationShutdown {
  constructor(@Inject(DatabaseConnection) private readonly connection: DatabaseConnection) {}

  /** Connects (and migrates) while the module initialises; needs ConfigModule and LoggingModule. */
  static forRoot(options: ConnectOptions = {}): DynamicModule {
    return {
      module: DbModule,
      providers: [
        {
          provide: DatabaseConnection,
          inject: [APP_CONFIG, LOGGER],
          useFactory: (config: AppConfig, logger: Logger) => DatabaseConnection.open(config.storage, logger, options),
        },
        {
          provide: PrismaService,
          inject: [DatabaseConnection],
          useFactory: (connection: DatabaseConnection) =>
            // Minimal error messages: Prisma's default pretty format prints the call's arguments,
            // which would put submitted values (one day an api_key) into logs.
            new PrismaService({ adapter: new PrismaPg(connection.pool), errorFormat: 'minimal' }),
        },
        DatabaseHealth,
        UnitOfWork,
      ],
      exports: [DatabaseConnection, PrismaService, DatabaseHealth, UnitOfWork],
    };
  }

  // After every module's onModuleDestroy (Prisma disconnects there), release pool and storage.
  async onApplicationShutdown(): Promise<void> {
    await this.connection.close();
  }
}

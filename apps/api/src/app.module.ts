import { type DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_PIPE } from '@nestjs/core';
import { AgentsModule } from '#agentplane/agents';
import { ProvidersModule } from '#agentplane/providers';
import { ApiKeyGuard, AuthModule } from '#agentplane/auth';
import { type AppConfig, ConfigModule } from '#agentplane/config';
import { CredentialsModule } from '#agentplane/credentials';
import { IdempotencyModule } from '#agentplane/idempotency';
import { KeysModule } from '#agentplane/keys';
import { DbModule } from '#agentplane/db';
import { EgressModule } from '#agentplane/egress';
import { type Logger, LoggingModule } from '#agentplane/logging';
import { RecordsModule } from '#agentplane/records';
import { RuntimeModule } from '#agentplane/runtime';
import { AgentsController } from './agents/agents.controller.js';
import { ApiKeysController } from './api-keys/api-keys.controller.js';
import { ProvidersController } from './providers/providers.controller.js';
import { CredentialsController } from './credentials/credentials.controller.js';
import { HealthController } from './health/health.controller.js';
import { OrganizationController } from './organization/organization.controller.js';
import { RepliesController } from './replies/replies.controller.js';
import { ConnectionTestsController } from './connection-tests/connection-tests.controller.js';
import { ReplyRecordsController } from './records/reply-records.controller.js';
import { UsageController } from './records/usage.controller.js';
import { TelemetryModule } from './telemetry/telemetry.module.js';
import { ProblemDetailsFilter } from './problem/problem-details.filter.js';
import { createValidationPipe } from './problem/validation.js';

@Module({})
export class AppModule {
  static forRoot(config: AppConfig, logger: Logger): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        LoggingModule.forRoot(logger),
        DbModule.forRoot(),
        AuthModule,
        KeysModule.forServing(),
        CredentialsModule,
        IdempotencyModule.forServing(),
        EgressModule,
        AgentsModule,
        ProvidersModule,
        RecordsModule.forServing(),
        TelemetryModule,
        RuntimeModule,
      ],
      controllers: [
        HealthController,
        OrganizationController,
        ApiKeysController,
        CredentialsController,
        AgentsController,
        ProvidersController,
        RepliesController,
        ConnectionTestsController,
        ReplyRecordsController,
        UsageController,
      ],
      providers: [
        { provide: APP_GUARD, useExisting: ApiKeyGuard },
        { provide: APP_FILTER, useClass: ProblemDetailsFilter },
        { provide: APP_PIPE, useFactory: createValidationPipe },
      ],
    };
  }
}

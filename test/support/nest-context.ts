import { type DynamicModule, type INestApplicationContext, Module, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AuthModule } from '#agentplane/auth';
import { ConfigModule, loadConfig } from '#agentplane/config';
import { CredentialsModule } from '#agentplane/credentials';
import { DbModule } from '#agentplane/db';
import { KeysModule } from '#agentplane/keys';
import { LoggingModule } from '#agentplane/logging';
import { silentLogger } from './db-client.js';
import type { TestStorage } from './storage.js';

@Module({})
class MediumTestModule {
  static forRoot(env: Record<string, string>, extra: readonly (Type | DynamicModule)[]): DynamicModule {
    return {
      module: MediumTestModule,
      imports: [
        ConfigModule.forRoot(loadConfig(env)),
        LoggingModule.forRoot(silentLogger),
        DbModule.forRoot(),
        AuthModule,
        KeysModule,
        CredentialsModule,
        ...extra,
      ],
    };
  }
}

/**
 * The product's modules in this process, on the test storage (the embedded server is started
 * here when the storage is PGlite): for medium tests that call services and repositories.
 */
export async function createServiceContext(
  storage: TestStorage,
  extraEnv: Record<string, string> = {},
  extraModules: readonly (Type | DynamicModule)[] = [],
): Promise<INestApplicationContext> {
  return NestFactory.createApplicationContext(MediumTestModule.forRoot({ ...storage.env, ...extraEnv }, extraModules), {
    logger: false,
    abortOnError: false,
  });
}

import { type DynamicModule, Module } from '@nestjs/common';
import { AuthModule } from '#agentplane/auth';
import { type AppConfig, ConfigModule } from '#agentplane/config';
import { CredentialsModule } from '#agentplane/credentials';
import { DbModule } from '#agentplane/db';
import { KeysModule } from '#agentplane/keys';
import { type Logger, LoggingModule } from '#agentplane/logging';

/** What the admin CLI needs: storage (migrated on connect), API keys and the key ring. No HTTP. */
@Module({})
export class CliModule {
  static forRoot(config: AppConfig, logger: Logger): DynamicModule {
    return {
      module: CliModule,
      imports: [
        ConfigModule.forRoot(config),
        LoggingModule.forRoot(logger),
        DbModule.forRoot({ poolSize: 2, attachToRunningServer: true }),
        AuthModule,
        KeysModule,
        CredentialsModule,
      ],
    };
  }
}

import { type DynamicModule, Module } from '@nestjs/common';
import { Clock } from '#agentplane/clock';
import { KeysModule } from '#agentplane/keys';
import { IdempotencyPurger } from './idempotency-purger.js';
import { IdempotencyRepository } from './idempotency.repository.js';
import { IdempotencyService } from './idempotency.service.js';

/** Idempotency-Key records. Needs ConfigModule, LoggingModule, DbModule. */
@Module({
  imports: [KeysModule],
  providers: [IdempotencyRepository, IdempotencyService, Clock],
  exports: [IdempotencyService],
})
export class IdempotencyModule {
  /** For a serving process: expired keys are purged on a schedule. */
  static forServing(): DynamicModule {
    return { module: IdempotencyServingModule, imports: [IdempotencyModule], exports: [IdempotencyModule] };
  }
}

@Module({ imports: [IdempotencyModule], providers: [IdempotencyRepository, IdempotencyPurger] })
class IdempotencyServingModule {}

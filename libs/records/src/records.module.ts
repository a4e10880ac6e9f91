import { type DynamicModule, Module } from '@nestjs/common';
import { AgentsModule } from '#agentplane/agents';
import { Clock } from '#agentplane/clock';
import { RecordPruner } from './record-pruner.js';
import { ReplyRecordRepository } from './reply-record.repository.js';
import { ReplyRecorder } from './reply-recorder.js';
import { RecordsService } from './records.service.js';

/** Reply records and usage. Needs ConfigModule, LoggingModule, DbModule. */
@Module({
  imports: [AgentsModule],
  providers: [ReplyRecordRepository, ReplyRecorder, RecordsService, Clock],
  exports: [ReplyRecorder, RecordsService],
})
export class RecordsModule {
  /** For a serving process: records past their retention are pruned on a schedule. */
  static forServing(): DynamicModule {
    return { module: RecordsServingModule, imports: [RecordsModule], exports: [RecordsModule] };
  }
}

@Module({ imports: [RecordsModule], providers: [RecordPruner], exports: [RecordPruner] })
class RecordsServingModule {}

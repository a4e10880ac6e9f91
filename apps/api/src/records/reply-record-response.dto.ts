import { ApiProperty, ApiSchema } from '@nestjs/swagger';
import type { Page } from '#agentplane/db';
import { LLM_APIS, type LlmApi } from '#agentplane/endpoints';
import type { ReplyRecord } from '#agentplane/records';
import { type AttemptSummary, RuntimeErrorCode } from '#agentplane/runtime';
import { UsageDto } from '../replies/reply-response.dto.js';

/** How a reply (or one attempt of it) can end: what `outcome` holds. */
const REPLY_OUTCOMES = ['completed', 'cancelled', ...Object.values(RuntimeErrorCode).sort()];
const OUTCOME = {
  enum: REPLY_OUTCOMES,
  enumName: 'ReplyOutcome',
  description: '`completed`, `cancelled` (the caller went away first), or the error code the reply failed with',
};

@ApiSchema({ name: 'ReplyAttempt', description: 'One llm entry tried for a reply, in the order they were tried' })
export class ReplyAttemptDto {
  @ApiProperty({ type: 'integer', example: 0 })
  entry_index!: number;
  @ApiProperty({ enum: LLM_APIS })
  api!: LlmApi;
  @ApiProperty({ example: 'gpt-4o-mini', description: "The entry's model" })
  model!: string;
  @ApiProperty({ ...OUTCOME, example: 'upstream_status' })
  outcome!: string;
  @ApiProperty({ type: 'integer', example: 230 })
  duration_ms!: number;

  static from(attempt: AttemptSummary): ReplyAttemptDto {
    return {
      entry_index: attempt.entryIndex,
      api: attempt.api,
      model: attempt.model,
      outcome: attempt.outcome,
      duration_ms: attempt.durationMs,
    };
  }
}

/** One reply as it was recorded: how it ended, never what was said. */
@ApiSchema({ name: 'ReplyRecord' })
export class ReplyRecordResponseDto {
  @ApiProperty({ example: 'rec_8w3kq0z5d2m7x1v9b4n6c8p0ta' })
  id!: string;
  @ApiProperty({ enum: ['reply_record'] })
  object!: 'reply_record';
  @ApiProperty({ example: 'agt_5k2mc8q1vz3x0r9d7t4b6n8p2a' })
  agent_id!: string;
  @ApiProperty({ nullable: true, type: String, example: 'req_Q2xKt7m1Vb9sXy3dLp0a', description: 'The x-request-id of the reply request' })
  request_id!: string | null;
  @ApiProperty({ description: 'False for a `stream: false` reply' })
  stream!: boolean;
  @ApiProperty({ ...OUTCOME, example: 'completed' })
  outcome!: string;
  @ApiProperty({
    nullable: true,
    type: 'integer',
    example: 1,
    description: 'The entry of the last attempt (the one that answered, for a completed reply); null when none was tried',
  })
  entry_index!: number | null;
  @ApiProperty({ nullable: true, enum: LLM_APIS, type: String })
  api!: LlmApi | null;
  @ApiProperty({
    nullable: true,
    type: String,
    example: 'claude-haiku-4-5',
    description: 'The model the upstream reported, or the entry’s',
  })
  model!: string | null;
  @ApiProperty({ type: [ReplyAttemptDto] })
  attempts!: ReplyAttemptDto[];
  @ApiProperty({
    nullable: true,
    type: 'integer',
    example: 412,
    description: 'From the start of the reply to its first token, fallbacks included; null when nothing was relayed',
  })
  ttft_ms!: number | null;
  @ApiProperty({ type: 'integer', example: 1380 })
  duration_ms!: number;
  @ApiProperty({ type: UsageDto, nullable: true, description: 'When the upstream reported it' })
  usage!: UsageDto | null;
  @ApiProperty({ format: 'date-time' })
  started_at!: string;

  static from(record: ReplyRecord): ReplyRecordResponseDto {
    return {
      id: record.id,
      object: 'reply_record',
      agent_id: record.agentId,
      request_id: record.requestId,
      stream: record.stream,
      outcome: record.outcome,
      entry_index: record.entryIndex,
      api: record.api,
      model: record.model,
      attempts: record.attempts.map((a) => ReplyAttemptDto.from(a)),
      ttft_ms: record.ttftMs,
      duration_ms: record.durationMs,
      usage: record.usage === null ? null : { ...record.usage },
      started_at: record.startedAt.toISOString(),
    };
  }
}

@ApiSchema({ name: 'ReplyRecordList' })
export class ReplyRecordListResponseDto {
  @ApiProperty({ type: [ReplyRecordResponseDto] })
  data!: ReplyRecordResponseDto[];
  @ApiProperty()
  has_more!: boolean;
  @ApiProperty({ nullable: true, type: String, description: 'Pass as `after` for the next page' })
  next_cursor!: string | null;

  static from(page: Page<ReplyRecord>): ReplyRecordListResponseDto {
    return { data: page.data.map((r) => ReplyRecordResponseDto.from(r)), has_more: page.hasMore, next_cursor: page.nextCursor };
  }
}

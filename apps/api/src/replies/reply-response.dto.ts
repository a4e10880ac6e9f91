import { ApiProperty, ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';
import { CommonErrorCode } from '#agentplane/errors';
import { type ReplyEvent, RuntimeErrorCode, type ToolCall, type WholeReply } from '#agentplane/runtime';
import { ToolCallDto } from './reply-request.dto.js';

@ApiSchema({ name: 'Usage' })
export class UsageDto {
  @ApiProperty({ type: 'integer' })
  input_tokens!: number;
  @ApiProperty({ type: 'integer' })
  output_tokens!: number;
  @ApiProperty({ type: 'integer' })
  total_tokens!: number;
}

/** The whole reply, for `stream: false`. */
@ApiSchema({ name: 'Reply' })
export class ReplyResponseDto {
  @ApiProperty()
  text!: string;
  @ApiProperty({ type: [ToolCallDto] })
  tool_calls!: ToolCallDto[];
  @ApiProperty({ example: 'stop' })
  finish_reason!: string;
  @ApiProperty({ type: 'integer', description: 'Which llm entry answered (0 unless a fallback did)' })
  entry_index!: number;
  @ApiProperty()
  model!: string;
  @ApiProperty({ type: 'integer', description: 'From the start of the reply to its first token, fallbacks included' })
  ttft_ms!: number;
  @ApiProperty({ type: 'integer', description: 'From the start of the reply to its end, fallbacks included' })
  duration_ms!: number;
  @ApiPropertyOptional({ type: UsageDto })
  usage?: UsageDto;
}

// The events of a streamed reply: each `data:` payload has its own schema, named for its
// `event:` line. Generated SSE clients (hey-api's) yield the parsed `data` of each event, so the
// stream's schema is the union of these payloads; their required members tell them apart.

@ApiSchema({ name: 'ReplyDelta', description: 'The `data` of a `reply.delta` event: the next piece of the reply text' })
export class ReplyDeltaDto {
  @ApiProperty({ example: 'Hello' })
  text!: string;
}

@ApiSchema({ name: 'ReplyToolCall', description: 'The `data` of a `reply.tool_call` event: one complete tool call, sent once' })
export class ReplyToolCallDto {
  @ApiProperty({ example: 'call_9f2' })
  id!: string;
  @ApiProperty({ example: 'end_call' })
  name!: string;
  @ApiProperty({ description: 'The arguments as the model wrote them (JSON text)', example: '{"reason":"done"}' })
  arguments!: string;
}

@ApiSchema({ name: 'ReplyCompleted', description: 'The `data` of a `reply.completed` event, the last event of a reply that ended well' })
export class ReplyCompletedDto {
  @ApiProperty({ example: 'stop' })
  finish_reason!: string;
  @ApiProperty({ type: 'integer', description: 'Which llm entry answered (0 unless a fallback did)', example: 0 })
  entry_index!: number;
  @ApiProperty({ example: 'gpt-4o-mini' })
  model!: string;
  @ApiProperty({ type: 'integer', description: 'From the start of the reply to its first token, fallbacks included', example: 412 })
  ttft_ms!: number;
  @ApiProperty({ type: 'integer', description: 'From the start of the reply to its end, fallbacks included', example: 1380 })
  duration_ms!: number;
  @ApiPropertyOptional({ type: UsageDto, description: 'When the upstream reported it' })
  usage?: UsageDto;
}

/** The codes an `error` event can carry: the runtime's, and internal_error for a failure of our own. */
const REPLY_ERROR_CODES = [...Object.values(RuntimeErrorCode), CommonErrorCode.InternalError].sort();

@ApiSchema({ name: 'ReplyError', description: 'The `data` of an `error` event, the last event of a reply that failed' })
export class ReplyErrorDto {
  @ApiProperty({
    enum: REPLY_ERROR_CODES,
    enumName: 'ReplyErrorCode',
    example: 'upstream_timeout_first_token',
    description: 'Why the reply failed: the same code a `stream: false` request gets as its problem `code`',
  })
  code!: string;
  @ApiProperty({ example: 'No token arrived from the upstream in time.' })
  message!: string;
  @ApiPropertyOptional({ description: 'For code `upstream_status`: the HTTP status the upstream answered', example: 503 })
  upstream_status?: number;
}

/** The `event:` name each payload is sent under. */
export const REPLY_EVENTS = {
  'reply.delta': ReplyDeltaDto,
  'reply.tool_call': ReplyToolCallDto,
  'reply.completed': ReplyCompletedDto,
  error: ReplyErrorDto,
} as const;

/** The `stream: false` answer. */
export function toReplyResponse(whole: WholeReply): ReplyResponseDto {
  return { text: whole.text, tool_calls: whole.toolCalls.map(toToolCallDto), ...completion(whole.completion) };
}

function toToolCallDto(call: ToolCall): ToolCallDto {
  return { id: call.id, name: call.name, arguments: call.arguments };
}

/** One server-sent event of a streamed reply: its `event:` name and `data:` payload. */
export function toServerSentEvent(event: ReplyEvent): { name: string; data: Record<string, unknown> } {
  switch (event.type) {
    case 'delta':
      return { name: 'reply.delta', data: { text: event.text } };
    case 'tool_call':
      return { name: 'reply.tool_call', data: { ...toToolCallDto(event.call) } };
    case 'completed':
      return { name: 'reply.completed', data: completion(event) };
    case 'error':
      return {
        name: 'error',
        data: {
          code: event.code,
          message: event.message,
          ...(event.upstreamStatus === undefined ? {} : { upstream_status: event.upstreamStatus }),
        },
      };
  }
}

type Completed = Extract<ReplyEvent, { type: 'completed' }>;

/** How a reply ended, as `reply.completed` and the `stream: false` answer both show it. */
export function completion(event: Completed): Omit<ReplyResponseDto, 'text' | 'tool_calls'> {
  return {
    finish_reason: event.finishReason,
    entry_index: event.entryIndex,
    model: event.model,
    ttft_ms: event.ttftMs,
    duration_ms: event.durationMs,
    ...(event.usage === undefined ? {} : { usage: { ...event.usage } }),
  };
}

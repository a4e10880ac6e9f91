import { ApiProperty, ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';
import { CommonErrorCode } from '#agentplane/errors';
import { type ReplyEvent, type ReplyToolCall, RuntimeErrorCode, type WholeReply } from '#agentplane/runtime';

@ApiSchema({ name: 'Usage' })
export class UsageDto {
  @ApiProperty({ type: 'integer' })
  input_tokens!: number;
  @ApiProperty({ type: 'integer' })
  output_tokens!: number;
  @ApiProperty({ type: 'integer' })
  total_tokens!: number;
}

@ApiSchema({
  name: 'ToolCallError',
  description: "Why a system tool call does not fit the agent's configuration. The call is relayed anyway: you decide what to do.",
})
export class ToolCallErrorDto {
  @ApiProperty({ enum: ['invalid_tool_arguments'], example: 'invalid_tool_arguments' })
  code!: 'invalid_tool_arguments';
  @ApiProperty({ description: 'What is wrong with the arguments', example: 'transfer_number +15550001111 is not configured' })
  message!: string;
}

@ApiSchema({
  name: 'ReplyToolCall',
  description:
    'One complete tool call the model made, sent once: the `data` of a `reply.tool_call` event, and an item of a `stream: false` ' +
    "reply's `tool_calls`. Run a custom tool's call and send its result back as a `tool` message; act on a system tool's call " +
    '(end the call, transfer, …) unless it has an `error`.',
})
export class ReplyToolCallDto {
  @ApiProperty({ example: 'call_9f2' })
  id!: string;
  @ApiProperty({ example: 'transfer_to_agent' })
  name!: string;
  @ApiProperty({
    description: 'The arguments as the model wrote them (JSON text)',
    example: '{"reason":"billing question","agent_number":0}',
  })
  arguments!: string;
  @ApiProperty({
    description:
      "True for a call of one of the agent's enabled system tools (end_call, language_detection, transfer_to_agent, " +
      "transfer_to_number, skip_turn, voicemail_detection), whose arguments were checked against the agent's configuration; " +
      'false for a custom tool.',
    example: true,
  })
  system!: boolean;
  @ApiPropertyOptional({
    description: 'For a valid transfer_to_agent call: the id of the agent its `agent_number` stands for',
    example: 'agt_5k2mc8q1vz3x0r9d7t4b6n8p2a',
  })
  agent_id?: string;
  @ApiPropertyOptional({ type: ToolCallErrorDto, description: "For a system call whose arguments do not fit the agent's configuration" })
  error?: ToolCallErrorDto;
}

/** The whole reply, for `stream: false`. */
@ApiSchema({ name: 'Reply' })
export class ReplyResponseDto {
  @ApiProperty()
  text!: string;
  @ApiProperty({ type: [ReplyToolCallDto] })
  tool_calls!: ReplyToolCallDto[];
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

function toToolCallDto(call: ReplyToolCall): ReplyToolCallDto {
  return {
    id: call.id,
    name: call.name,
    arguments: call.arguments,
    system: call.system,
    ...(call.agentId === undefined ? {} : { agent_id: call.agentId }),
    ...(call.error === undefined ? {} : { error: { code: call.error.code, message: call.error.message } }),
  };
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

import { ApiProperty, ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';
import type { ReplyEvent, ToolCall, WholeReply } from '@agentplane/runtime';
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
        data: { code: event.code, message: event.message, ...(event.upstreamStatus === undefined ? {} : { upstream_status: event.upstreamStatus }) },
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

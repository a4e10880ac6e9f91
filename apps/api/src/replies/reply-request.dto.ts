import { ApiProperty, ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsObject,
  IsString,
  Length,
  MaxLength,
  ValidateBy,
  ValidateIf,
  ValidateNested,
} from 'class-validator';
import { MESSAGE_ROLES, type MessageRole } from '#agentplane/runtime';
import { IsMetadata } from '../http/is-metadata.validator.js';
import { IsVariables, VARIABLE_MAX_VALUE, VARIABLES_MAX_PAIRS } from '../http/variables.js';

export const MAX_MESSAGES = 500;
const present = (field: string) => ValidateIf((o: Record<string, unknown>) => o[field] !== undefined);

/** A field that only messages of one role may carry (an upstream would refuse it anyway, later). */
function OnlyForRole(role: MessageRole): PropertyDecorator {
  return ValidateBy({
    name: 'onlyForRole',
    validator: {
      validate: (_value: unknown, args) => (args?.object as { role?: unknown }).role === role,
      defaultMessage: () => `is only allowed on messages with role ${role}`,
    },
  });
}

@ApiSchema({ name: 'ToolCall' })
export class ToolCallDto {
  @ApiProperty({ example: 'call_9f2' })
  @IsString()
  @Length(1, 200)
  id!: string;

  @ApiProperty({ example: 'end_call' })
  @IsString()
  @Length(1, 200)
  name!: string;

  @ApiProperty({ description: 'The arguments as the model wrote them (JSON text)', example: '{"reason":"done"}' })
  @IsString()
  @MaxLength(100_000)
  arguments!: string;
}

@ApiSchema({ name: 'ConversationMessage' })
export class ConversationMessageDto {
  @ApiProperty({ enum: MESSAGE_ROLES })
  @IsIn(MESSAGE_ROLES)
  role!: MessageRole;

  @ApiProperty({
    type: String,
    nullable: true,
    maxLength: 200_000,
    description: 'May be null only for an assistant turn that made tool calls',
  })
  @ValidateIf((m: ConversationMessageDto) => m.content !== null || !(m.role === 'assistant' && (m.tool_calls?.length ?? 0) > 0))
  @IsString()
  @MaxLength(200_000)
  content!: string | null;

  @ApiPropertyOptional({ description: 'For role tool: the call this message answers' })
  @ValidateIf((m: ConversationMessageDto) => m.tool_call_id !== undefined || m.role === 'tool')
  @IsString()
  @Length(1, 200)
  @OnlyForRole('tool')
  tool_call_id?: string;

  @ApiPropertyOptional({ type: [ToolCallDto], description: 'For role assistant: the calls the model made' })
  @present('tool_calls')
  @OnlyForRole('assistant')
  @IsArray()
  @ArrayMaxSize(64)
  @ValidateNested({ each: true })
  @Type(() => ToolCallDto)
  tool_calls?: ToolCallDto[];
}

@ApiSchema({ name: 'ReplyRequest' })
export class ReplyRequestDto {
  @ApiProperty({ type: [ConversationMessageDto], minItems: 1, maxItems: MAX_MESSAGES })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_MESSAGES)
  @ValidateNested({ each: true })
  @Type(() => ConversationMessageDto)
  messages!: ConversationMessageDto[];

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: { type: 'string' },
    description:
      'Your own labels for this reply. Sent to the LLM endpoint as a top-level `extra_metadata` object only when the agent has ' +
      '`forward_metadata: true`; otherwise never sent.',
    example: { call_id: 'call_123', customer_tier: 'gold' },
  })
  @present('metadata')
  @IsObject()
  @IsMetadata()
  metadata?: Record<string, string>;

  @ApiPropertyOptional({
    minLength: 1,
    maxLength: 256,
    description:
      'Who the end user is, in your own terms (an opaque id, not personal data). Sent to the LLM endpoint as `user`, ' +
      'which providers use for abuse monitoring.',
    example: 'user_8f3a2c',
  })
  @present('user_id')
  @IsString()
  @Length(1, 256)
  user_id?: string;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: { type: 'string', maxLength: VARIABLE_MAX_VALUE },
    maxProperties: VARIABLES_MAX_PAIRS,
    description:
      "Values for the `{{name}}` placeholders of the agent's instructions, over the agent's own `variables` defaults. " +
      'Names match `^[A-Za-z_][A-Za-z0-9_]{0,63}$`. A placeholder left without a value fails the request with 422 ' +
      '(`missing_variable` at `variables.<name>`) before anything is streamed. Values are inserted as written: a value ' +
      'holding `{{other}}` is not expanded.',
    example: { customer_name: 'Ada', plan: 'Pro' },
  })
  @present('variables')
  @IsObject()
  @IsVariables()
  variables?: Record<string, string>;

  @ApiPropertyOptional({ default: true, description: 'false: one JSON answer instead of text/event-stream' })
  @present('stream')
  @IsBoolean()
  stream?: boolean;
}

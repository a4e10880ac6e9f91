import { ApiHideProperty, ApiProperty, ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  Allow,
  ArrayMaxSize,
  IsArray,
  IsIn,
  IsInt,
  IsNumber,
  IsObject,
  IsOptional,
  IsString,
  Length,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateIf,
  ValidateNested,
} from 'class-validator';
import { LLM_APIS, type LlmApi } from '#agentplane/agents';
import { IsMetadata, METADATA_MAX_KEY, METADATA_MAX_PAIRS, METADATA_MAX_VALUE } from '../http/is-metadata.validator.js';

// A key goes into an Authorization header: visible ASCII only, so it can never split a header.
const API_KEY_CHARS = /^[\x21-\x7e]+$/;
const NOT_BLANK = /\S/;
export const MAX_LLM_ENTRIES = 5;

/** Present means validated: null is never "leave it out". */
const present = (field: string) => ValidateIf((o: Record<string, unknown>) => o[field] !== undefined);

@ApiSchema({ name: 'LlmTimeouts', description: 'Per-entry overrides of the runtime timeouts, in milliseconds' })
export class LlmTimeoutsDto {
  @ApiPropertyOptional({
    minimum: 1,
    maximum: 60_000,
    default: 5_000,
    type: 'integer',
    description:
      'Applied rounded up to the next of 250, 500, 1000, 2000, 3000, 5000, 10000, 20000, 30000, 60000 (connection pools are shared per step)',
  })
  @present('connect_ms')
  @IsInt()
  @Min(1)
  @Max(60_000)
  connect_ms?: number;

  @ApiPropertyOptional({
    minimum: 1,
    maximum: 600_000,
    default: 20_000,
    type: 'integer',
    description: 'From sending the request to the first text, tool-call or reasoning delta',
  })
  @present('first_token_ms')
  @IsInt()
  @Min(1)
  @Max(600_000)
  first_token_ms?: number;

  @ApiPropertyOptional({
    minimum: 1,
    maximum: 600_000,
    default: 30_000,
    type: 'integer',
    description: 'Longest silence between two chunks',
  })
  @present('idle_ms')
  @IsInt()
  @Min(1)
  @Max(600_000)
  idle_ms?: number;

  @ApiPropertyOptional({ minimum: 1, maximum: 3_600_000, default: 300_000, type: 'integer', description: 'The whole attempt' })
  @present('total_ms')
  @IsInt()
  @Min(1)
  @Max(3_600_000)
  total_ms?: number;
}

@ApiSchema({ name: 'LlmEntryRequest' })
export class LlmEntryDto {
  @ApiProperty({
    example: 'https://api.openai.com/v1',
    maxLength: 2048,
    description: 'An https URL on a public host (checked again at every connection); /chat/completions or /responses is appended.',
  })
  @IsString()
  @MaxLength(2048)
  base_url!: string;

  @ApiProperty({ minLength: 1, maxLength: 200, example: 'gpt-4o-mini' })
  @IsString()
  @Length(1, 200)
  @Matches(NOT_BLANK, { message: 'must not be blank', context: { code: 'blank' } })
  model!: string;

  @ApiPropertyOptional({ enum: LLM_APIS, default: 'chat_completions' })
  @present('api')
  @IsIn(LLM_APIS)
  api?: LlmApi;

  @ApiPropertyOptional({
    writeOnly: true,
    minLength: 1,
    maxLength: 4096,
    description:
      "The provider key, stored encrypted and only ever sent to this entry's origin; never returned (reads show `api_key_hint`). " +
      'On replace, leave it out to keep the key of the entry at the same index, which works only while the origin is unchanged.',
  })
  @present('api_key')
  @IsString()
  @Length(1, 4096)
  @Matches(API_KEY_CHARS, { message: 'must be printable ASCII without spaces', context: { code: 'invalid_api_key' } })
  api_key?: string;

  @ApiPropertyOptional({
    example: 'cred_5k2mc8q1vz3x0r9d7t4b6n8p2a',
    description: "Instead of api_key: an organization credential whose allowed_origins include this entry's origin.",
  })
  @present('credential_id')
  @IsString()
  @Length(1, 100)
  credential_id?: string;

  @ApiPropertyOptional({ type: LlmTimeoutsDto })
  @present('timeouts')
  @IsObject()
  @ValidateNested()
  @Type(() => LlmTimeoutsDto)
  timeouts?: LlmTimeoutsDto;

  /** Read-only: accepted and ignored, so that a read can be edited and sent back as it is. */
  @ApiHideProperty()
  @Allow()
  api_key_hint?: unknown;
}

@ApiSchema({
  name: 'AgentRequest',
  description:
    'The read-only fields of a read (id, object, created_at, updated_at, llm[].api_key_hint) are accepted and ignored, ' +
    'so a read can be edited and sent back; a hint is never taken for a key.',
})
export class AgentRequestDto {
  @ApiHideProperty()
  @Allow()
  id?: unknown;

  @ApiHideProperty()
  @Allow()
  object?: unknown;

  @ApiHideProperty()
  @Allow()
  created_at?: unknown;

  @ApiHideProperty()
  @Allow()
  updated_at?: unknown;

  @ApiProperty({ minLength: 1, maxLength: 200, example: 'Support line' })
  @IsString()
  @Length(1, 200)
  @Matches(NOT_BLANK, { message: 'must not be blank', context: { code: 'blank' } })
  name!: string;

  @ApiPropertyOptional({ maxLength: 100_000, description: 'The system prompt', nullable: true, type: String })
  @IsOptional()
  @IsString()
  @MaxLength(100_000)
  instructions?: string | null;

  @ApiPropertyOptional({
    type: [LlmEntryDto],
    maxItems: MAX_LLM_ENTRIES,
    default: [],
    description: 'Entry order is fallback order. On replace, [] (or leaving it out) removes every entry and the keys the agent owns.',
  })
  @present('llm')
  @IsArray()
  @ArrayMaxSize(MAX_LLM_ENTRIES)
  @ValidateNested({ each: true })
  @Type(() => LlmEntryDto)
  llm?: LlmEntryDto[];

  @ApiPropertyOptional({ minimum: 0, maximum: 2, nullable: true, type: Number })
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  @Max(2)
  temperature?: number | null;

  @ApiPropertyOptional({ minimum: 1, maximum: 100_000, nullable: true, type: 'integer' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(100_000)
  max_tokens?: number | null;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: { type: 'string', maxLength: METADATA_MAX_VALUE },
    maxProperties: METADATA_MAX_PAIRS,
    description: `Up to ${METADATA_MAX_PAIRS} string pairs; keys up to ${METADATA_MAX_KEY} characters`,
  })
  @present('metadata')
  @IsObject()
  @IsMetadata()
  metadata?: Record<string, string>;
}

import { ApiHideProperty, ApiProperty, ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  Allow,
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
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
  ValidateNested,
} from 'class-validator';
import { EndpointDto, MAX_JSON_OBJECT_BYTES, NOT_BLANK, present } from '../endpoints/endpoint-request.dto.js';
import { IsMetadata, IsRecord, METADATA_MAX_KEY, METADATA_MAX_PAIRS, METADATA_MAX_VALUE } from '../http/is-metadata.validator.js';
import { IsEmptyObject, MaxJsonBytes } from '../http/json-object.validator.js';
import { IsVariables, VARIABLE_MAX_VALUE, VARIABLES_MAX_PAIRS } from '../http/variables.js';

export const MAX_LLM_ENTRIES = 5;
export const MAX_TOOLS = 64;
export const TOOL_NAME = /^[A-Za-z0-9_-]{1,64}$/;
export const MAX_TOOL_DESCRIPTION = 4096;
export const MAX_LANGUAGES = 50;
export const MAX_TRANSFERS = 20;
export const MAX_CONDITION = 1000;
export const E164 = /^\+[1-9]\d{1,14}$/;

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

@ApiSchema({
  name: 'LlmEntryRequest',
  description:
    'One endpoint the agent answers with, tried in order: its own (base_url, api, key, …), or a provider of the ' +
    'organization by provider_id, with only model and timeouts beside it.',
})
export class LlmEntryDto extends EndpointDto {
  @ApiProperty({ minLength: 1, maxLength: 200, example: 'gpt-4o-mini' })
  @IsString()
  @Length(1, 200)
  @Matches(NOT_BLANK, { message: 'must not be blank', context: { code: 'blank' } })
  model!: string;

  @ApiPropertyOptional({
    example: 'prv_5k2mc8q1vz3x0r9d7t4b6n8p2a',
    description:
      "Instead of the endpoint's own fields: a provider of this organization, whose settings, key and model_map the " +
      'reply uses (the model sent is model_map[model], or model). Then only model and timeouts may be given with it.',
  })
  @present('provider_id')
  @IsString()
  @Length(1, 100)
  provider_id?: string;

  @ApiPropertyOptional({ type: LlmTimeoutsDto })
  @present('timeouts')
  @IsObject()
  @ValidateNested()
  @Type(() => LlmTimeoutsDto)
  timeouts?: LlmTimeoutsDto;
}

export const WEATHER_TOOL_PARAMETERS = {
  type: 'object',
  properties: {
    city: { type: 'string', description: 'City name, like "Paris"' },
    unit: { type: 'string', enum: ['celsius', 'fahrenheit'] },
  },
  required: ['city'],
  additionalProperties: false,
};

@ApiSchema({ name: 'ToolDefinition', description: 'A function the model may call; the caller runs it and sends back its result.' })
export class ToolDto {
  @ApiProperty({ enum: ['function'] })
  @IsIn(['function'])
  type!: 'function';

  @ApiProperty({
    pattern: TOOL_NAME.source,
    example: 'get_weather',
    description: 'Unique among the tools and the enabled system tools (duplicate_name)',
  })
  @IsString()
  @Matches(TOOL_NAME, { message: 'must be 1 to 64 letters, digits, _ or -', context: { code: 'invalid_tool_name' } })
  name!: string;

  @ApiPropertyOptional({ maxLength: MAX_TOOL_DESCRIPTION, example: 'The current weather in a city' })
  @present('description')
  @IsString()
  @MaxLength(MAX_TOOL_DESCRIPTION)
  description?: string;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    example: WEATHER_TOOL_PARAMETERS,
    description:
      `A JSON Schema (checked against the draft-07 meta-schema: invalid_json_schema) whose top level is \`type: "object"\`; ` +
      `at most ${MAX_JSON_OBJECT_BYTES} bytes as JSON. Stored and sent as given, key order included.`,
  })
  @present('parameters')
  @IsObject()
  @IsRecord()
  @MaxJsonBytes(MAX_JSON_OBJECT_BYTES)
  parameters?: Record<string, unknown>;
}

const EMPTY_TOOL = { type: 'object', additionalProperties: false, properties: {}, example: {} } as const;

@ApiSchema({ name: 'LanguageDetection' })
export class LanguageDetectionDto {
  @ApiProperty({
    type: [String],
    minItems: 1,
    maxItems: MAX_LANGUAGES,
    uniqueItems: true,
    example: ['en-US', 'fr', 'es-419'],
    description: 'BCP 47 language tags the caller may switch to (invalid_language_tag, duplicate_language)',
  })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_LANGUAGES)
  @IsString({ each: true })
  languages!: string[];
}

@ApiSchema({ name: 'AgentTransfer' })
export class AgentTransferDto {
  @ApiProperty({ example: 'agt_7r3kq9m2xw5v8n1b4c6d0f2h9j', description: 'Another agent of the organization' })
  @IsString()
  @Length(1, 100)
  agent_id!: string;

  @ApiProperty({ minLength: 1, maxLength: MAX_CONDITION, example: 'The caller asks about an invoice or a refund' })
  @IsString()
  @Length(1, MAX_CONDITION)
  @Matches(NOT_BLANK, { message: 'must not be blank', context: { code: 'blank' } })
  condition!: string;
}

@ApiSchema({ name: 'NumberTransfer' })
export class NumberTransferDto {
  @ApiProperty({ pattern: E164.source, example: '+14155550123', description: 'E.164' })
  @IsString()
  @Matches(E164, { message: 'must be an E.164 number, like +14155550123', context: { code: 'invalid_phone_number' } })
  number!: string;

  @ApiProperty({ minLength: 1, maxLength: MAX_CONDITION, example: 'The caller asks for a human' })
  @IsString()
  @Length(1, MAX_CONDITION)
  @Matches(NOT_BLANK, { message: 'must not be blank', context: { code: 'blank' } })
  condition!: string;
}

@ApiSchema({ name: 'TransferToAgent' })
export class TransferToAgentDto {
  @ApiProperty({ type: [AgentTransferDto], minItems: 1, maxItems: MAX_TRANSFERS })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_TRANSFERS)
  @ValidateNested({ each: true })
  @Type(() => AgentTransferDto)
  transfers!: AgentTransferDto[];
}

@ApiSchema({ name: 'TransferToNumber' })
export class TransferToNumberDto {
  @ApiProperty({ type: [NumberTransferDto], minItems: 1, maxItems: MAX_TRANSFERS })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_TRANSFERS)
  @ValidateNested({ each: true })
  @Type(() => NumberTransferDto)
  transfers!: NumberTransferDto[];
}

@ApiSchema({
  name: 'SystemTools',
  description: 'Built-in tools, by the name the model sees: a member present enables that tool. Unknown members are refused.',
})
export class SystemToolsDto {
  @ApiPropertyOptional({ ...EMPTY_TOOL, description: 'Lets the model end the call' })
  @present('end_call')
  @IsObject()
  @IsRecord()
  @IsEmptyObject()
  end_call?: Record<string, never>;

  @ApiPropertyOptional({ type: LanguageDetectionDto, description: 'Lets the model switch the conversation language' })
  @present('language_detection')
  @IsObject()
  @ValidateNested()
  @Type(() => LanguageDetectionDto)
  language_detection?: LanguageDetectionDto;

  @ApiPropertyOptional({ type: TransferToAgentDto, description: 'Lets the model hand the conversation to another agent' })
  @present('transfer_to_agent')
  @IsObject()
  @ValidateNested()
  @Type(() => TransferToAgentDto)
  transfer_to_agent?: TransferToAgentDto;

  @ApiPropertyOptional({ type: TransferToNumberDto, description: 'Lets the model transfer the call to a phone number' })
  @present('transfer_to_number')
  @IsObject()
  @ValidateNested()
  @Type(() => TransferToNumberDto)
  transfer_to_number?: TransferToNumberDto;

  @ApiPropertyOptional({ ...EMPTY_TOOL, description: 'Lets the model stay silent for a turn' })
  @present('skip_turn')
  @IsObject()
  @IsRecord()
  @IsEmptyObject()
  skip_turn?: Record<string, never>;

  @ApiPropertyOptional({ ...EMPTY_TOOL, description: 'Lets the model report that a voicemail answered' })
  @present('voicemail_detection')
  @IsObject()
  @IsRecord()
  @IsEmptyObject()
  voicemail_detection?: Record<string, never>;
}

@ApiSchema({
  name: 'AgentRequest',
  description:
    'The read-only fields of a read (id, object, created_at, updated_at, llm[].api_key_hint, llm[].headers[].value_hint) ' +
    'are accepted and ignored, ' +
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

  @ApiPropertyOptional({ type: [ToolDto], maxItems: MAX_TOOLS, default: [] })
  @present('tools')
  @IsArray()
  @ArrayMaxSize(MAX_TOOLS)
  @ValidateNested({ each: true })
  @Type(() => ToolDto)
  tools?: ToolDto[];

  @ApiPropertyOptional({ type: SystemToolsDto, default: {} })
  @present('system_tools')
  @IsObject()
  @ValidateNested()
  @Type(() => SystemToolsDto)
  system_tools?: SystemToolsDto;

  @ApiPropertyOptional({
    default: false,
    description: "Send a reply request's metadata upstream, as a top-level `extra_metadata` object of the request body",
  })
  @present('forward_metadata')
  @IsBoolean()
  forward_metadata?: boolean;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: { type: 'string', maxLength: VARIABLE_MAX_VALUE },
    maxProperties: VARIABLES_MAX_PAIRS,
    example: { company: 'Acme', hours: '9:00-17:00' },
    description:
      `Defaults for the \`{{name}}\` placeholders of instructions (a reply's variables override them): up to ${VARIABLES_MAX_PAIRS} ` +
      `string values up to ${VARIABLE_MAX_VALUE} characters, names matching a letter or _, then up to 63 letters, digits or _`,
  })
  @present('variables')
  @IsObject()
  @IsVariables()
  variables?: Record<string, string>;
}

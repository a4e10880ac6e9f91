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
  ValidateBy,
  ValidateIf,
  ValidateNested,
} from 'class-validator';
import { AUTH_SCHEMES, type AuthScheme, DEFAULT_BASE_URL, LLM_APIS, type LlmApi, RESERVED_BODY_FIELDS } from '#agentplane/endpoints';
import { IsMetadata, IsRecord, METADATA_MAX_KEY, METADATA_MAX_PAIRS, METADATA_MAX_VALUE } from '../http/is-metadata.validator.js';
import { IsEmptyObject, MaxJsonBytes } from '../http/json-object.validator.js';
import { IsVariables, VARIABLE_MAX_VALUE, VARIABLES_MAX_PAIRS } from '../http/variables.js';

// A key goes into an Authorization header: visible ASCII only, so it can never split a header.
const API_KEY_CHARS = /^[\x21-\x7e]+$/;
const NOT_BLANK = /\S/;
export const MAX_LLM_ENTRIES = 5;
export const MAX_TOOLS = 64;
export const TOOL_NAME = /^[A-Za-z0-9_-]{1,64}$/;
export const MAX_TOOL_DESCRIPTION = 4096;
/** Tool parameters and an extra body, as JSON: both go upstream with every request. */
export const MAX_JSON_OBJECT_BYTES = 16 * 1024;
export const MAX_LANGUAGES = 50;
export const MAX_TRANSFERS = 20;
export const MAX_CONDITION = 1000;
export const E164 = /^\+[1-9]\d{1,14}$/;
export const MAX_HEADERS = 16;
// RFC 9110 token: what a field name may be.
export const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// Visible ASCII with inner spaces and tabs: a value that can neither split a header nor be trimmed.
const HEADER_VALUE = /^(?:[\x21-\x7e](?:[\x21-\x7e \t]*[\x21-\x7e])?)?$/;
const SECRET_HEADER_VALUE = /^[\x21-\x7e](?:[\x21-\x7e \t]*[\x21-\x7e])?$/;

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

/** A key source given with `auth: none`, which sends no key: refused rather than stored unused. */
const notWithAuthNone = () =>
  ValidateBy(
    {
      name: 'notWithAuthNone',
      validator: {
        validate: (_value: unknown, args) => (args?.object as { auth?: unknown } | undefined)?.auth !== 'none',
        defaultMessage: () => 'must be absent when auth is none',
      },
    },
    { context: { code: 'not_allowed_with_auth_none' } },
  );

@ApiSchema({
  name: 'LlmHeaderRequest',
  description:
    'An extra header sent with every request to this entry: `value` in plain (shown by reads), or `secret_value` (stored ' +
    "encrypted, only ever sent to this entry's origin, shown as `value_hint`). On replace, `name` alone keeps the secret value " +
    'stored under that name for the entry at the same index, while the origin is unchanged.',
})
export class LlmHeaderDto {
  @ApiProperty({
    maxLength: 256,
    pattern: HEADER_NAME.source,
    example: 'OpenAI-Organization',
    description:
      'An HTTP field name, unique in the entry (case-insensitive). Refused (reserved_header): hop-by-hop headers, host, ' +
      "content-length, content-type, accept, and the header the entry's auth sets.",
  })
  @IsString()
  @Length(1, 256)
  @Matches(HEADER_NAME, { message: 'must be an HTTP field name (token characters only)', context: { code: 'invalid_header_name' } })
  name!: string;

  @ApiPropertyOptional({
    maxLength: 8192,
    example: 'org-team-support',
    description: 'Visible ASCII, inner spaces and tabs allowed, no leading or trailing whitespace',
  })
  @present('value')
  @IsString()
  @MaxLength(8192)
  @Matches(HEADER_VALUE, { message: 'must be visible ASCII (inner spaces and tabs allowed)', context: { code: 'invalid_header_value' } })
  value?: string;

  @ApiPropertyOptional({
    writeOnly: true,
    minLength: 1,
    maxLength: 4096,
    description: 'Instead of value: a secret, stored encrypted and never returned (reads show `value_hint`).',
  })
  @present('secret_value')
  @IsString()
  @Length(1, 4096)
  @Matches(SECRET_HEADER_VALUE, {
    message: 'must be visible ASCII (inner spaces and tabs allowed)',
    context: { code: 'invalid_header_value' },
  })
  @ValidateBy(
    {
      name: 'conflictsWithValue',
      validator: {
        validate: (_value: unknown, args) => (args?.object as { value?: unknown } | undefined)?.value === undefined,
        defaultMessage: () => 'give either value or secret_value, not both',
      },
    },
    { context: { code: 'conflicts_with_value' } },
  )
  secret_value?: string;

  /** Read-only: accepted and ignored, so that a read can be edited and sent back as it is. */
  @ApiHideProperty()
  @Allow()
  value_hint?: unknown;
}

export const AZURE_RESOURCE = /^[a-zA-Z0-9][a-zA-Z0-9-]{0,62}$/;
export const AZURE_API_VERSION = /^\d{4}-\d{2}-\d{2}(-preview)?$/;
export const AZURE_DEPLOYMENT = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

@ApiSchema({
  name: 'AzureSettings',
  description:
    'Where an Azure OpenAI entry sends its requests. With `api_version`: ' +
    '`https://{resource}.openai.azure.com/openai/deployments/{deployment or model}/chat/completions?api-version={api_version}`; ' +
    'without: the v1 route, `https://{resource}.openai.azure.com/openai/v1/chat/completions`. A `base_url` replaces ' +
    '`https://{resource}.openai.azure.com/openai` (or `…/openai/v1`), for API Management or a private endpoint.',
})
export class AzureSettingsDto {
  @ApiPropertyOptional({
    pattern: AZURE_RESOURCE.source,
    example: 'contoso-eastus',
    description: 'The Azure OpenAI resource name (the host is `{resource}.openai.azure.com`); required without base_url',
  })
  @present('resource')
  @IsString()
  @Matches(AZURE_RESOURCE, {
    message: 'must be an Azure resource name (letters, digits and hyphens)',
    context: { code: 'invalid_resource' },
  })
  resource?: string;

  @ApiPropertyOptional({
    pattern: AZURE_API_VERSION.source,
    example: '2024-10-21',
    description: 'Selects the deployments route; required unless base_url ends in /openai/v1',
  })
  @present('api_version')
  @IsString()
  @Matches(AZURE_API_VERSION, { message: 'must be an API version like 2024-10-21', context: { code: 'invalid_api_version' } })
  api_version?: string;

  @ApiPropertyOptional({
    pattern: AZURE_DEPLOYMENT.source,
    example: 'gpt-4o-mini-prod',
    description: 'The deployment name in the path (deployments route only); the model when absent',
  })
  @present('deployment')
  @IsString()
  @Matches(AZURE_DEPLOYMENT, { message: 'must be a deployment name', context: { code: 'invalid_deployment' } })
  deployment?: string;
}

@ApiSchema({ name: 'LlmEntryRequest' })
export class LlmEntryDto {
  @ApiPropertyOptional({
    example: 'https://api.openai.com/v1',
    maxLength: 2048,
    description:
      "An https URL on a public host (checked again at every connection), to which the api's path is appended: " +
      '/chat/completions, /responses, /messages (anthropic), /models/{model}:streamGenerateContent?alt=sse (google). ' +
      `Required for chat_completions and responses; defaults to ${DEFAULT_BASE_URL.anthropic} (anthropic), ` +
      `${DEFAULT_BASE_URL.google} (google) and for azure to the resource's host. Reads show the URL in use.`,
  })
  // Required (and reported with the other missing fields) for the apis that have no default.
  @ValidateIf(
    (o: LlmEntryDto) => o.base_url !== undefined || (DEFAULT_BASE_URL[o.api ?? 'chat_completions'] === undefined && o.api !== 'azure'),
  )
  @IsString()
  @MaxLength(2048)
  base_url?: string;

  @ApiProperty({ minLength: 1, maxLength: 200, example: 'gpt-4o-mini' })
  @IsString()
  @Length(1, 200)
  @Matches(NOT_BLANK, { message: 'must not be blank', context: { code: 'blank' } })
  model!: string;

  @ApiPropertyOptional({
    enum: LLM_APIS,
    default: 'chat_completions',
    description:
      'The wire format: OpenAI Chat Completions or Responses, Anthropic Messages (anthropic), Google Gemini ' +
      'streamGenerateContent (google) or Azure OpenAI chat completions (azure, with `azure`).',
  })
  @present('api')
  @IsIn(LLM_APIS)
  api?: LlmApi;

  @ApiPropertyOptional({ type: AzureSettingsDto, description: 'Only for api azure' })
  @present('azure')
  @IsObject()
  @ValidateNested()
  @Type(() => AzureSettingsDto)
  azure?: AzureSettingsDto;

  @ApiPropertyOptional({
    enum: AUTH_SCHEMES,
    description:
      'How the key is sent: `Authorization: Bearer <key>` (bearer), `api-key: <key>` (api_key_header), ' +
      '`x-api-key: <key>` (x_api_key), `x-goog-api-key: <key>` (x_goog_api_key), or no key at all (none: then api_key ' +
      "and credential_id must be absent). Defaults to the api's own: bearer for chat_completions and responses, " +
      'x_api_key for anthropic, x_goog_api_key for google, api_key_header for azure.',
  })
  @present('auth')
  @IsIn(AUTH_SCHEMES)
  auth?: AuthScheme;

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
  @notWithAuthNone()
  api_key?: string;

  @ApiPropertyOptional({
    example: 'cred_5k2mc8q1vz3x0r9d7t4b6n8p2a',
    description: "Instead of api_key: an organization credential whose allowed_origins include this entry's origin.",
  })
  @present('credential_id')
  @IsString()
  @Length(1, 100)
  @notWithAuthNone()
  credential_id?: string;

  @ApiPropertyOptional({ type: LlmTimeoutsDto })
  @present('timeouts')
  @IsObject()
  @ValidateNested()
  @Type(() => LlmTimeoutsDto)
  timeouts?: LlmTimeoutsDto;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    example: { reasoning_effort: 'low' },
    description:
      `Merged into the top level of every upstream request body; at most ${MAX_JSON_OBJECT_BYTES} bytes as JSON. The members ` +
      `the runtime sets for the entry's api are refused (reserved_field): ${reservedFieldsText()}. For google, a ` +
      '`generationConfig` here is merged with the temperature and max_tokens the agent sets (the agent wins).',
  })
  @present('extra_body')
  @IsObject()
  @IsRecord()
  @MaxJsonBytes(MAX_JSON_OBJECT_BYTES)
  extra_body?: Record<string, unknown>;

  @ApiPropertyOptional({ type: [LlmHeaderDto], maxItems: MAX_HEADERS, default: [] })
  @present('headers')
  @IsArray()
  @ArrayMaxSize(MAX_HEADERS)
  @ValidateNested({ each: true })
  @Type(() => LlmHeaderDto)
  headers?: LlmHeaderDto[];

  /** Read-only: accepted and ignored, so that a read can be edited and sent back as it is. */
  @ApiHideProperty()
  @Allow()
  api_key_hint?: unknown;
}

function reservedFieldsText(): string {
  const byApi = new Map<string, LlmApi[]>();
  for (const api of LLM_APIS)
    byApi.set(RESERVED_BODY_FIELDS[api].join(', '), [...(byApi.get(RESERVED_BODY_FIELDS[api].join(', ')) ?? []), api]);
  return [...byApi].map(([fields, apis]) => `${apis.join(' and ')}: ${fields}`).join('; ');
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

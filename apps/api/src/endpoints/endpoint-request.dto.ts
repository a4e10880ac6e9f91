import { ApiHideProperty, ApiProperty, ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  Allow,
  ArrayMaxSize,
  IsArray,
  IsIn,
  IsObject,
  IsString,
  Length,
  Matches,
  MaxLength,
  ValidateBy,
  ValidateIf,
  ValidateNested,
} from 'class-validator';
import { AUTH_SCHEMES, type AuthScheme, DEFAULT_BASE_URL, LLM_APIS, type LlmApi, RESERVED_BODY_FIELDS } from '#agentplane/endpoints';
import { IsRecord } from '../http/is-metadata.validator.js';
import { MaxJsonBytes } from '../http/json-object.validator.js';

// A key goes into an Authorization header: visible ASCII only, so it can never split a header.
const API_KEY_CHARS = /^[\x21-\x7e]+$/;
export const NOT_BLANK = /\S/;
/** Tool parameters and an extra body, as JSON: both go upstream with every request. */
export const MAX_JSON_OBJECT_BYTES = 16 * 1024;
export const MAX_HEADERS = 16;
// RFC 9110 token: what a field name may be.
export const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// Visible ASCII with inner spaces and tabs: a value that can neither split a header nor be trimmed.
const HEADER_VALUE = /^(?:[\x21-\x7e](?:[\x21-\x7e \t]*[\x21-\x7e])?)?$/;
const SECRET_HEADER_VALUE = /^[\x21-\x7e](?:[\x21-\x7e \t]*[\x21-\x7e])?$/;

/** Present means validated: null is never "leave it out". */
export const present = (field: string) => ValidateIf((o: Record<string, unknown>) => o[field] !== undefined);

/** Chat completions and responses have no default host; Azure's comes from its resource (checked later). */
function needsBaseUrl(api: LlmApi | undefined): boolean {
  const resolved = api ?? 'chat_completions';
  return DEFAULT_BASE_URL[resolved] === undefined && resolved !== 'azure';
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

/**
 * Where an LLM is and how to call it: the fields an agent's inline llm entry and a provider share.
 * Subclasses add what is theirs (a model and timeouts, a name and a model map).
 */
export abstract class EndpointDto {
  @ApiPropertyOptional({
    example: 'https://api.openai.com/v1',
    maxLength: 2048,
    description:
      "An https URL on a public host (checked again at every connection), to which the api's path is appended: " +
      '/chat/completions, /responses, /messages (anthropic), /models/{model}:streamGenerateContent?alt=sse (google). ' +
      `Required for chat_completions and responses; defaults to ${DEFAULT_BASE_URL.anthropic} (anthropic), ` +
      `${DEFAULT_BASE_URL.google} (google) and for azure to the resource's host. Reads show the URL in use.`,
  })
  // Required (and reported with the other missing fields) for the apis that have no default,
  // unless the endpoint is a provider's.
  @ValidateIf(
    (o: EndpointDto & { provider_id?: unknown }) => o.base_url !== undefined || (o.provider_id === undefined && needsBaseUrl(o.api)),
  )
  @IsString()
  @MaxLength(2048)
  base_url?: string;

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

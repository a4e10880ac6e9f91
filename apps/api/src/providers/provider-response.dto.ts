import { ApiProperty, ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';
import type { Page } from '#agentplane/db';
import { AUTH_SCHEMES, type AuthScheme, LLM_APIS, type LlmApi } from '#agentplane/endpoints';
import type { Provider } from '#agentplane/providers';
import { AzureSettingsDto } from '../endpoints/endpoint-request.dto.js';
import { endpointResponse, LlmHeaderResponseDto } from '../endpoints/endpoint-response.dto.js';

/** A provider as every read shows it: its key and secret header values only as hints. */
@ApiSchema({ name: 'Provider' })
export class ProviderResponseDto {
  @ApiProperty({ example: 'prv_5k2mc8q1vz3x0r9d7t4b6n8p2a' })
  id!: string;
  @ApiProperty({ enum: ['provider'] })
  object!: 'provider';
  @ApiProperty({ example: 'Claude via Acme gateway' })
  name!: string;
  @ApiProperty({ enum: LLM_APIS })
  api!: LlmApi;
  @ApiProperty({ example: 'https://api.anthropic.com/v1', description: 'The URL in use (a default filled in)' })
  base_url!: string;
  @ApiPropertyOptional({ type: AzureSettingsDto, description: 'Present for api azure when set' })
  azure?: AzureSettingsDto;
  @ApiProperty({ enum: AUTH_SCHEMES })
  auth!: AuthScheme;
  @ApiPropertyOptional({
    readOnly: true,
    example: '****x7Qa',
    description: '"****", plus the last 4 characters when the key has at least 20; absent for auth none',
  })
  api_key_hint?: string;
  @ApiPropertyOptional({ description: 'The organization credential this provider uses; absent when the key was given inline' })
  credential_id?: string;
  @ApiPropertyOptional({ type: 'object', additionalProperties: true, description: 'Present when set: merged into every upstream body' })
  extra_body?: Record<string, unknown>;
  @ApiProperty({ type: [LlmHeaderResponseDto] })
  headers!: LlmHeaderResponseDto[];
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' }, example: { 'claude-sonnet-4-6': 'claude-v2' } })
  model_map!: Record<string, string>;
  @ApiProperty({ format: 'date-time' })
  created_at!: string;
  @ApiProperty({ format: 'date-time' })
  updated_at!: string;

  static from(provider: Provider): ProviderResponseDto {
    const { base_url, api, azure, auth, api_key_hint, credential_id, extra_body, headers } = endpointResponse(provider);
    return {
      id: provider.id,
      object: 'provider',
      name: provider.name,
      api,
      base_url,
      ...(azure === undefined ? {} : { azure }),
      auth,
      ...(api_key_hint === undefined ? {} : { api_key_hint }),
      ...(credential_id === undefined ? {} : { credential_id }),
      ...(extra_body === undefined ? {} : { extra_body }),
      headers,
      model_map: { ...provider.modelMap },
      created_at: provider.createdAt.toISOString(),
      updated_at: provider.updatedAt.toISOString(),
    };
  }
}

@ApiSchema({ name: 'ProviderList' })
export class ProviderListResponseDto {
  @ApiProperty({ type: [ProviderResponseDto] })
  data!: ProviderResponseDto[];
  @ApiProperty()
  has_more!: boolean;
  @ApiProperty({ nullable: true, type: String, description: 'Pass as `after` for the next page' })
  next_cursor!: string | null;

  static from(page: Page<Provider>): ProviderListResponseDto {
    return { data: page.data.map((p) => ProviderResponseDto.from(p)), has_more: page.hasMore, next_cursor: page.nextCursor };
  }
}

import { ApiProperty, ApiSchema } from '@nestjs/swagger';
import type { ApiKeySummary } from '#agentplane/auth';
import type { Page } from '#agentplane/db';

/** An API key as every read shows it: never the key, only the prefix a person recognises it by. */
@ApiSchema({ name: 'ApiKey' })
export class ApiKeyResponseDto {
  @ApiProperty({ example: 'key_5k2mc8q1vz3x0r9d7t4b6n8p2a' })
  id!: string;

  @ApiProperty({ enum: ['api_key'] })
  object!: 'api_key';

  @ApiProperty({ nullable: true, type: String })
  name!: string | null;

  @ApiProperty({ example: 'ap_live_x7Qa2m', description: 'The first characters of the key: enough to recognise it, never to use it' })
  prefix!: string;

  @ApiProperty({ format: 'date-time' })
  created_at!: string;

  @ApiProperty({ format: 'date-time', nullable: true, type: String, description: 'Within a minute' })
  last_used_at!: string | null;

  @ApiProperty({ format: 'date-time', nullable: true, type: String })
  revoked_at!: string | null;

  static from(key: ApiKeySummary): ApiKeyResponseDto {
    return {
      id: key.id,
      object: 'api_key',
      name: key.name,
      prefix: key.prefix,
      created_at: key.createdAt.toISOString(),
      last_used_at: key.lastUsedAt?.toISOString() ?? null,
      revoked_at: key.revokedAt?.toISOString() ?? null,
    };
  }
}

/** A key just created: the only answer that carries the key itself. */
@ApiSchema({ name: 'CreatedApiKey' })
export class CreatedApiKeyResponseDto extends ApiKeyResponseDto {
  @ApiProperty({ description: 'The key. Shown this once: only its hash is stored, so it cannot be read again.' })
  api_key!: string;

  static withKey(key: ApiKeySummary, apiKey: string): CreatedApiKeyResponseDto {
    return { ...ApiKeyResponseDto.from(key), api_key: apiKey };
  }
}

@ApiSchema({ name: 'ApiKeyList' })
export class ApiKeyListResponseDto {
  @ApiProperty({ type: [ApiKeyResponseDto] })
  data!: ApiKeyResponseDto[];

  @ApiProperty()
  has_more!: boolean;

  @ApiProperty({ nullable: true, type: String, description: 'Pass as `after` for the next page' })
  next_cursor!: string | null;

  static from(page: Page<ApiKeySummary>): ApiKeyListResponseDto {
    return { data: page.data.map((k) => ApiKeyResponseDto.from(k)), has_more: page.hasMore, next_cursor: page.nextCursor };
  }
}

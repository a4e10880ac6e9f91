import { ApiProperty, ApiSchema } from '@nestjs/swagger';
import type { Credential } from '#agentplane/credentials';
import type { Page } from '#agentplane/db';

/** A credential as every read shows it: the key only as its hint. */
@ApiSchema({ name: 'Credential' })
export class CredentialResponseDto {
  @ApiProperty({ example: 'cred_5k2mc8q1vz3x0r9d7t4b6n8p2a' })
  id!: string;
  @ApiProperty({ enum: ['credential'] })
  object!: 'credential';
  @ApiProperty()
  name!: string;
  @ApiProperty({
    readOnly: true,
    example: '****x7Qa',
    description: '"****", plus the last 4 characters when the key has at least 20',
  })
  api_key_hint!: string;
  @ApiProperty({ type: [String], example: ['https://api.openai.com'] })
  allowed_origins!: string[];
  @ApiProperty({ format: 'date-time' })
  created_at!: string;
  @ApiProperty({ format: 'date-time' })
  updated_at!: string;
  @ApiProperty({ format: 'date-time', nullable: true, type: String, description: 'When the key was last sent upstream' })
  last_used_at!: string | null;

  static from(credential: Credential): CredentialResponseDto {
    return {
      id: credential.id,
      object: 'credential',
      name: credential.name,
      api_key_hint: credential.apiKeyHint,
      allowed_origins: [...credential.allowedOrigins],
      created_at: credential.createdAt.toISOString(),
      updated_at: credential.updatedAt.toISOString(),
      last_used_at: credential.lastUsedAt?.toISOString() ?? null,
    };
  }
}

@ApiSchema({ name: 'CredentialList' })
export class CredentialListResponseDto {
  @ApiProperty({ type: [CredentialResponseDto] })
  data!: CredentialResponseDto[];
  @ApiProperty()
  has_more!: boolean;
  @ApiProperty({ nullable: true, type: String, description: 'Pass as `after` for the next page' })
  next_cursor!: string | null;

  static from(page: Page<Credential>): CredentialListResponseDto {
    return { data: page.data.map((c) => CredentialResponseDto.from(c)), has_more: page.hasMore, next_cursor: page.nextCursor };
  }
}

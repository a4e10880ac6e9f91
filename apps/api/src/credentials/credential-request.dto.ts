import { ApiProperty, ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsString, Length, Matches, ValidateIf } from 'class-validator';

// A key goes into an Authorization header: visible ASCII only, so it can never split a header.
const API_KEY_CHARS = /^[\x21-\x7e]+$/;
const NOT_BLANK = /\S/;
const ORIGINS_EXAMPLE = ['https://api.openai.com'];

@ApiSchema({ name: 'CreateCredentialRequest' })
export class CreateCredentialDto {
  @ApiProperty({ minLength: 1, maxLength: 200, example: 'OpenAI production' })
  @IsString()
  @Length(1, 200)
  @Matches(NOT_BLANK, { message: 'must not be blank', context: { code: 'blank' } })
  name!: string;

  @ApiProperty({
    writeOnly: true,
    minLength: 1,
    maxLength: 4096,
    description: 'The provider API key. Stored encrypted, never returned: reads show `api_key_hint`.',
  })
  @IsString()
  @Length(1, 4096)
  @Matches(API_KEY_CHARS, { message: 'must be printable ASCII without spaces', context: { code: 'invalid_api_key' } })
  api_key!: string;

  @ApiProperty({
    type: [String],
    minItems: 1,
    maxItems: 20,
    example: ORIGINS_EXAMPLE,
    description: 'The only origins (https://host[:port]) the key may ever be sent to.',
  })
  // Each entry is checked by the service, which can name its index (allowed_origins[1]).
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(20)
  allowed_origins!: string[];
}

@ApiSchema({ name: 'ReplaceCredentialRequest' })
export class ReplaceCredentialDto {
  @ApiProperty({ minLength: 1, maxLength: 200 })
  @IsString()
  @Length(1, 200)
  @Matches(NOT_BLANK, { message: 'must not be blank', context: { code: 'blank' } })
  name!: string;

  @ApiPropertyOptional({
    writeOnly: true,
    minLength: 1,
    maxLength: 4096,
    description:
      'A new key, replacing the stored one. Leave it out to keep the stored key; that is refused ' +
      '(`api_key_required`) when `allowed_origins` adds an origin.',
  })
  // Present means validated: null is not "keep the key", it is an error.
  @ValidateIf((dto: ReplaceCredentialDto) => dto.api_key !== undefined)
  @IsString()
  @Length(1, 4096)
  @Matches(API_KEY_CHARS, { message: 'must be printable ASCII without spaces', context: { code: 'invalid_api_key' } })
  api_key?: string;

  @ApiProperty({ type: [String], minItems: 1, maxItems: 20, example: ORIGINS_EXAMPLE })
  // Each entry is checked by the service, which can name its index (allowed_origins[1]).
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(20)
  allowed_origins!: string[];
}

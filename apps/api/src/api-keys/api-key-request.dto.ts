import { ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';
import { IsString, Length, Matches, ValidateIf } from 'class-validator';

@ApiSchema({ name: 'CreateApiKeyRequest' })
export class CreateApiKeyDto {
  @ApiPropertyOptional({ minLength: 1, maxLength: 100, example: 'voice gateway', description: 'A label for people; it is not secret' })
  @ValidateIf((o: CreateApiKeyDto) => o.name !== undefined)
  @IsString()
  @Length(1, 100)
  @Matches(/\S/, { message: 'must not be blank', context: { code: 'blank' } })
  name?: string;
}

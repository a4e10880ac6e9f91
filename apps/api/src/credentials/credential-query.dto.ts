import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';

export class DeleteCredentialQueryDto {
  @ApiPropertyOptional({
    enum: ['true', 'false'],
    description: 'Delete even while in use, removing every use of the credential in the same transaction',
  })
  @IsOptional()
  @IsIn(['true', 'false'])
  force?: 'true' | 'false';
}

import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';

/** `?force=true` on a DELETE of something others use (a credential, a provider). */
export class DeleteQueryDto {
  @ApiPropertyOptional({
    enum: ['true', 'false'],
    description: 'Delete even while in use, removing every use in the same transaction',
  })
  @IsOptional()
  @IsIn(['true', 'false'])
  force?: 'true' | 'false';
}

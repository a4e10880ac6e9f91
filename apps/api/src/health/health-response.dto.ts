import { ApiProperty, ApiSchema } from '@nestjs/swagger';

@ApiSchema({ name: 'Health' })
export class HealthResponseDto {
  @ApiProperty({ enum: ['ok'] })
  status!: 'ok';
}

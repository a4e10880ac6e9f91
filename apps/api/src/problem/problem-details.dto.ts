import { ApiProperty, ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';
import { ERROR_CODES } from './error-statuses.js';

@ApiSchema({ name: 'FieldError' })
export class FieldErrorDto {
  @ApiProperty({ example: 'llm[0].base_url' })
  path!: string;
  @ApiProperty({ example: 'https_required' })
  code!: string;
  @ApiProperty()
  message!: string;
}

/** RFC 9457 problem details, as every error response carries them (application/problem+json). */
@ApiSchema({ name: 'ProblemDetails' })
export class ProblemDetailsDto {
  @ApiProperty({ format: 'uri', example: 'https://agentplane.dev/problems/validation_failed' })
  type!: string;
  @ApiProperty({ example: 'Invalid request' })
  title!: string;
  @ApiProperty({ example: 422 })
  status!: number;
  @ApiProperty()
  detail!: string;
  @ApiProperty({ description: 'Stable machine-readable code', enum: ERROR_CODES, enumName: 'ErrorCode', example: 'validation_failed' })
  code!: string;
  @ApiProperty({ description: 'Also sent as the x-request-id response header' })
  request_id!: string;
  @ApiPropertyOptional({ type: [FieldErrorDto] })
  errors?: FieldErrorDto[];
  @ApiPropertyOptional({ description: 'For code `upstream_status`: the HTTP status the upstream answered', example: 503 })
  upstream_status?: number;
}

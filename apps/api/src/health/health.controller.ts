import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { Public } from '@agentplane/auth';
import { DatabaseHealth } from '@agentplane/db';
import { DomainError, ErrorCode } from '@agentplane/errors';
import { HealthResponseDto } from './health-response.dto.js';
import { ProblemDetailsDto } from '../problem/problem-details.dto.js';

@ApiTags('operations')
@Controller('healthz')
export class HealthController {
  constructor(private readonly database: DatabaseHealth) {}

  @Public()
  @Get()
  @ApiOperation({ operationId: 'getHealth', summary: 'Liveness and database readiness' })
  @ApiOkResponse({ type: HealthResponseDto })
  @ApiServiceUnavailableResponse({ type: ProblemDetailsDto, description: 'The database does not answer' })
  async check(): Promise<HealthResponseDto> {
    if (!(await this.database.isHealthy())) {
      throw new DomainError(ErrorCode.DatabaseUnavailable, 'The database did not answer.');
    }
    return { status: 'ok' };
  }
}

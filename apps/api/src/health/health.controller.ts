import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Public } from '#agentplane/auth';
import { DatabaseHealth } from '#agentplane/db';
import { CommonError, CommonErrorCode } from '#agentplane/errors';
import { HealthResponseDto } from './health-response.dto.js';
import { ApiProblemResponse, PROBLEMS } from '../problem/api-problem-response.decorator.js';

@ApiTags('operations')
@Controller('healthz')
export class HealthController {
  constructor(private readonly database: DatabaseHealth) {}

  @Public()
  @Get()
  // `security: []`: stated, not omitted, so the spec says this route needs no key.
  @ApiOperation({ operationId: 'getHealth', summary: 'Liveness and database readiness', security: [] })
  @ApiOkResponse({ type: HealthResponseDto })
  @ApiProblemResponse(503, 'The database does not answer', { ...PROBLEMS.databaseUnavailable, detail: 'The database did not answer.' })
  async check(): Promise<HealthResponseDto> {
    if (!(await this.database.isHealthy())) {
      throw new CommonError(CommonErrorCode.DatabaseUnavailable, 'The database did not answer.');
    }
    return { status: 'ok' };
  }
}

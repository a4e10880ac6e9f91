import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { type AuthContext, CurrentAuth } from '#agentplane/auth';
import { RecordsService } from '#agentplane/records';
import { ApiAuthenticatedProblems, ApiProblemResponse, invalid } from '../problem/api-problem-response.decorator.js';
import { UsageQueryDto } from './usage-query.dto.js';
import { UsageReportResponseDto } from './usage-response.dto.js';

@ApiTags('records')
@ApiBearerAuth()
@ApiAuthenticatedProblems()
@Controller('v1/usage')
export class UsageController {
  constructor(private readonly records: RecordsService) {}

  @Get()
  @ApiOperation({
    operationId: 'getUsage',
    summary: "The organization's reply usage over a window, per agent or per UTC day",
    description:
      'Counts the replies that started in `[from, to)`: completed, cancelled, failed and errors by code, TTFT p50/p95, and tokens, ' +
      'per group and for the whole window. From the reply records, so the same retention applies.',
  })
  @ApiOkResponse({ type: UsageReportResponseDto })
  @ApiProblemResponse(
    422,
    'A from, to or group_by that is not valid, or a window that is empty or longer than 92 days (invalid_window at from)',
    invalid('from', 'invalid_window', 'must be before to'),
  )
  async get(@CurrentAuth() auth: AuthContext, @Query() query: UsageQueryDto): Promise<UsageReportResponseDto> {
    const report = await this.records.usage(auth.orgId, {
      ...(query.from === undefined ? {} : { from: new Date(query.from) }),
      ...(query.to === undefined ? {} : { to: new Date(query.to) }),
      groupBy: query.group_by ?? 'agent',
    });
    return UsageReportResponseDto.from(report);
  }
}

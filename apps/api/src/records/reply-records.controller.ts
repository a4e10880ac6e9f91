import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { type AuthContext, CurrentAuth } from '#agentplane/auth';
import { RecordsService } from '#agentplane/records';
import { DEFAULT_PAGE_SIZE, ListQueryDto } from '../http/list-query.dto.js';
import { ApiAuthenticatedProblems, ApiListProblems, ApiProblemResponse, notFound } from '../problem/api-problem-response.decorator.js';
import { ReplyRecordListResponseDto } from './reply-record-response.dto.js';

@ApiTags('records')
@ApiBearerAuth()
@ApiAuthenticatedProblems()
@Controller('v1/agents/:id/reply-records')
export class ReplyRecordsController {
  constructor(private readonly records: RecordsService) {}

  @Get()
  @ApiOperation({
    operationId: 'listReplyRecords',
    summary: "An agent's reply records, newest first",
    description:
      'One record per reply, streamed or not, however it ended: outcome, attempts, TTFT, duration, tokens. Never the messages. ' +
      'Records are written within a second of the reply, kept for AGENTPLANE_RECORD_RETENTION_DAYS, and outlive a deleted agent.',
  })
  @ApiOkResponse({ type: ReplyRecordListResponseDto })
  @ApiListProblems()
  @ApiProblemResponse(404, 'Neither an agent of this organization nor any record of one', notFound('Agent'))
  async list(@CurrentAuth() auth: AuthContext, @Param('id') id: string, @Query() query: ListQueryDto): Promise<ReplyRecordListResponseDto> {
    return ReplyRecordListResponseDto.from(await this.records.list(auth.orgId, id, query.limit ?? DEFAULT_PAGE_SIZE, query.after));
  }
}

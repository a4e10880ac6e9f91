import { Body, Controller, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { type AuthContext, CurrentAuth } from '#agentplane/auth';
import { DomainError } from '#agentplane/errors';
import { ConnectionTestService } from '#agentplane/runtime';
import { toEntryInput } from '../agents/agent-input.js';
import { LlmEntryDto } from '../agents/agent-request.dto.js';
import { entryErrors } from '../agents/agent-request.rules.js';
import {
  ApiAuthenticatedProblems,
  ApiJsonBodyProblems,
  ApiProblemResponse,
  invalid,
  notFound,
  PROBLEMS,
} from '../problem/api-problem-response.decorator.js';
import { AgentConnectionTestDto, ConnectionTestReportDto } from './connection-report-response.dto.js';

const STEPS_DESCRIPTION =
  'Each entry gets one short real request on a connection of its own, reported step by step with its time: ' +
  '`policy` (the base_url and credential rules), `dns`, `connect`, `tls`, `request` (the HTTP status: 401/403 are ' +
  '`auth_rejected`, 404 is `model_or_path_not_found`), `stream` (the first event, in the format of the entry’s api) ' +
  'and `first_token`, stopping at the first step that fails, whose `code` says why in one word. The upstream’s body ' +
  'is never shown. An organization may test 10 entries a minute (429 `rate_limited` with Retry-After).';

@ApiTags('connection-tests')
@ApiBearerAuth()
@ApiAuthenticatedProblems()
@Controller()
export class ConnectionTestsController {
  constructor(private readonly tests: ConnectionTestService) {}

  @Post('v1/agents/:id/test')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'testAgent',
    summary: "Test each of an agent's llm entries, as stored, before a reply depends on them",
    description: STEPS_DESCRIPTION,
  })
  @ApiOkResponse({ type: AgentConnectionTestDto })
  @ApiProblemResponse(404, 'No such agent in this organization', notFound('Agent'))
  @ApiProblemResponse(429, 'Too many entries tested lately (rate_limited)', PROBLEMS.testsRateLimited)
  async testAgent(@CurrentAuth() auth: AuthContext, @Param('id') id: string): Promise<AgentConnectionTestDto> {
    const { agent, reports } = await this.tests.testAgent(auth.orgId, id);
    return AgentConnectionTestDto.from(agent, reports);
  }

  @Post('v1/llm-tests')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'testLlmEntry',
    summary: 'Test an llm entry that is not saved',
    description:
      'The body is one entry with the fields of an agent’s `llm[]` entry (its own endpoint with `api_key`, ' +
      '`credential_id` or `auth: none`, or a `provider_id`). A key or secret header value given here is used for ' +
      'this one request and never stored. ' +
      STEPS_DESCRIPTION,
  })
  @ApiBody({
    type: LlmEntryDto,
    examples: {
      inline: {
        summary: 'An OpenAI-compatible endpoint with its key',
        value: { base_url: 'https://api.openai.com/v1', model: 'gpt-4o-mini', api_key: 'sk-…' },
      },
      provider: { summary: 'A provider of the organization', value: { provider_id: 'prv_5k2mc8q1vz3x0r9d7t4b6n8p2a', model: 'fast' } },
    },
  })
  @ApiOkResponse({ type: ConnectionTestReportDto })
  @ApiJsonBodyProblems()
  @ApiProblemResponse(422, 'Invalid entry', invalid('model', 'required', 'is required'))
  @ApiProblemResponse(429, 'Too many entries tested lately (rate_limited)', PROBLEMS.testsRateLimited)
  async testEntry(@CurrentAuth() auth: AuthContext, @Body() body: LlmEntryDto): Promise<ConnectionTestReportDto> {
    const errors = entryErrors(body, '');
    if (errors.length > 0) throw DomainError.validation(errors);
    return ConnectionTestReportDto.from(await this.tests.testEntry(auth.orgId, toEntryInput(body)));
  }
}

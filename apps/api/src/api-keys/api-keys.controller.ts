import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { ApiKeyService, type AuthContext, CurrentAuth } from '#agentplane/auth';
import { DEFAULT_PAGE_SIZE, ListQueryDto } from '../http/list-query.dto.js';
import {
  ApiAuthenticatedProblems,
  ApiJsonBodyProblems,
  ApiListProblems,
  ApiProblemResponse,
  invalid,
  notFound,
  PROBLEMS,
} from '../problem/api-problem-response.decorator.js';
import { CreateApiKeyDto } from './api-key-request.dto.js';
import { ApiKeyListResponseDto, CreatedApiKeyResponseDto } from './api-key-response.dto.js';

const CREATED_HEADERS = {
  Location: { description: 'Path of the new key', schema: { type: 'string', example: '/v1/api-keys/key_5k2mc8q1vz3x0r9d7t4b6n8p2a' } },
};

@ApiTags('api-keys')
@ApiBearerAuth()
@ApiAuthenticatedProblems()
@Controller('v1/api-keys')
export class ApiKeysController {
  constructor(private readonly apiKeys: ApiKeyService) {}

  @Post()
  @ApiOperation({
    operationId: 'createApiKey',
    summary: "Issue another API key for the caller's organization",
    description: 'The answer carries the key once; only its hash is stored.',
  })
  @ApiBody({ type: CreateApiKeyDto, required: false, examples: { named: { summary: 'A named key', value: { name: 'voice gateway' } } } })
  @ApiCreatedResponse({ type: CreatedApiKeyResponseDto, headers: CREATED_HEADERS })
  @ApiJsonBodyProblems()
  @ApiProblemResponse(422, 'Invalid body', invalid('name', 'blank', 'must not be blank'))
  async create(
    @CurrentAuth() auth: AuthContext,
    @Body() body: CreateApiKeyDto,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<CreatedApiKeyResponseDto> {
    const { key, apiKey } = await this.apiKeys.issueFor(auth.orgId, body.name);
    void reply.header('location', `/v1/api-keys/${key.id}`).header('cache-control', 'no-store');
    return CreatedApiKeyResponseDto.withKey(key, apiKey);
  }

  @Get()
  @ApiOperation({
    operationId: 'listApiKeys',
    summary: "The organization's API keys, revoked ones included, newest first (never the keys)",
  })
  @ApiOkResponse({ type: ApiKeyListResponseDto })
  @ApiListProblems()
  async list(@CurrentAuth() auth: AuthContext, @Query() query: ListQueryDto): Promise<ApiKeyListResponseDto> {
    return ApiKeyListResponseDto.from(await this.apiKeys.list(auth.orgId, query.limit ?? DEFAULT_PAGE_SIZE, query.after));
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({
    operationId: 'revokeApiKey',
    summary: 'Revoke an API key of the organization',
    description: 'Refused at once by this instance, and by every instance within a second. Revoking a revoked key changes nothing.',
  })
  @ApiNoContentResponse({ description: 'Revoked' })
  @ApiProblemResponse(404, 'No such API key in this organization', notFound('API key'))
  @ApiProblemResponse(409, "The organization's last active key (last_active_api_key)", PROBLEMS.lastActiveApiKey)
  async revoke(@CurrentAuth() auth: AuthContext, @Param('id') id: string): Promise<void> {
    await this.apiKeys.revokeFor(auth.orgId, id);
  }
}

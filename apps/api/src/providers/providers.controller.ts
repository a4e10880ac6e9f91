import { Body, Controller, Delete, Get, Headers, HttpCode, Param, Patch, Post, Put, Query, Req, Res } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiBody,
  ApiConsumes,
  ApiCreatedResponse,
  ApiHeader,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { type AuthContext, CurrentAuth } from '#agentplane/auth';
import type { StoredResponse } from '#agentplane/idempotency';
import { type Provider, providerEtag, ProvidersService } from '#agentplane/providers';
import { DeleteQueryDto } from '../http/delete-query.dto.js';
import { DEFAULT_PAGE_SIZE, ListQueryDto } from '../http/list-query.dto.js';
import { parseIdempotencyKey, parseIfMatch } from '../http/request-headers.js';
import { sendStoredResponse } from '../http/stored-response.js';
import {
  ApiAuthenticatedProblems,
  ApiJsonBodyProblems,
  ApiListProblems,
  ApiProblemResponse,
  invalid,
  notFound,
  type ProblemExample,
  PROBLEMS,
} from '../problem/api-problem-response.decorator.js';
import { patchedProviderInput, toProviderInput } from './provider-input.js';
import { ProviderRequestDto } from './provider-request.dto.js';
import { ProviderListResponseDto, ProviderResponseDto } from './provider-response.dto.js';

const ETAG_HEADER = {
  ETag: { description: 'Version of the provider; send it as If-Match to change only that version', schema: { type: 'string' } },
};
const CREATED_HEADERS = {
  ...ETAG_HEADER,
  Location: {
    description: 'Path of the new provider',
    schema: { type: 'string', example: '/v1/providers/prv_5k2mc8q1vz3x0r9d7t4b6n8p2a' },
  },
  'Idempotent-Replayed': {
    description: 'Present (true) when this is the stored response of an earlier request with the same Idempotency-Key',
    schema: { type: 'string', enum: ['true'] },
  },
};
// One runnable provider per spec; agents then name it with {"provider_id", "model"}.
const PROVIDER_EXAMPLES = {
  anthropic: {
    summary: 'Anthropic, with a model map',
    value: {
      name: 'Claude',
      api: 'anthropic',
      base_url: 'https://api.anthropic.com/v1',
      api_key: 'sk-ant-replace-with-your-own-key',
      model_map: { 'claude-sonnet-4-6': 'claude-sonnet-4-5' },
    },
  },
  google: {
    summary: 'Google Gemini',
    value: { name: 'Gemini', api: 'google', api_key: 'AIza-replace-with-your-own-key-0123' },
  },
  azure: {
    summary: 'Azure OpenAI deployments, model names mapped to deployment names',
    value: {
      name: 'Azure East US',
      api: 'azure',
      azure: { resource: 'contoso-eastus', api_version: '2024-10-21' },
      api_key: 'replace-with-your-azure-key-0123456789',
      model_map: { 'gpt-4o-mini': 'gpt-4o-mini-prod' },
    },
  },
  openai_compatible: {
    summary: 'Any OpenAI-compatible endpoint (vLLM, Baseten, a gateway), with a secret header',
    value: {
      name: 'Gateway',
      api: 'chat_completions',
      base_url: 'https://llm-gateway.example.com/v1',
      api_key: 'gw-replace-with-your-own-key-0123',
      headers: [{ name: 'X-Tenant', secret_value: 'tenant-secret-0123456789' }],
    },
  },
};
const PROVIDER_NOT_FOUND = notFound('Provider');
const PROVIDER_IN_USE: ProblemExample = {
  code: 'provider_in_use',
  detail:
    'The provider is used by 2 agent(s). Remove it from their llm entries first, or delete with force=true to remove those entries too.',
};

@ApiTags('providers')
@ApiBearerAuth()
@ApiAuthenticatedProblems()
@Controller('v1/providers')
export class ProvidersController {
  constructor(private readonly providers: ProvidersService) {}

  @Post()
  @ApiOperation({ operationId: 'createProvider', summary: 'Create a provider: a named LLM endpoint agents use by id' })
  @ApiHeader({
    name: 'Idempotency-Key',
    required: false,
    description:
      'Retry-safe creation: the same key with the same body within 24 h returns the first response; with another body, 422; ' +
      'while the first request with the key is still running, a retry waits for it (409 after 15 s)',
    schema: { type: 'string', maxLength: 255 },
  })
  @ApiBody({ type: ProviderRequestDto, examples: PROVIDER_EXAMPLES })
  @ApiCreatedResponse({ type: ProviderResponseDto, headers: CREATED_HEADERS })
  @ApiJsonBodyProblems()
  @ApiProblemResponse(
    409,
    'The first request with this Idempotency-Key is still running (idempotency_key_in_progress)',
    PROBLEMS.idempotencyKeyInProgress,
  )
  @ApiProblemResponse(
    422,
    'Invalid body (api_key_required, credential_origin_mismatch, masked_value_submitted, base_url codes, invalid_model_map, …)',
    invalid('base_url', 'https_required', 'must use https'),
    invalid('model_map', 'invalid_model_map', 'must map at most 200 model names to model names (each 1 to 200 characters, not blank)'),
  )
  async create(
    @CurrentAuth() auth: AuthContext,
    @Body() body: ProviderRequestDto,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<ProviderResponseDto> {
    const idempotent = parseIdempotencyKey(idempotencyKey, 'POST', '/v1/providers', request.body);
    const result = await this.providers.create(
      auth.orgId,
      toProviderInput(body),
      idempotent === undefined ? undefined : { ...idempotent, present: createdResponse },
    );
    const replayed = 'replay' in result;
    return sendStoredResponse(reply, replayed ? result.replay : createdResponse(result.provider), replayed) as ProviderResponseDto;
  }

  @Get()
  @ApiOperation({ operationId: 'listProviders', summary: 'List providers, newest first' })
  @ApiOkResponse({ type: ProviderListResponseDto })
  @ApiListProblems()
  async list(@CurrentAuth() auth: AuthContext, @Query() query: ListQueryDto): Promise<ProviderListResponseDto> {
    return ProviderListResponseDto.from(await this.providers.list(auth.orgId, query.limit ?? DEFAULT_PAGE_SIZE, query.after));
  }

  @Get(':id')
  @ApiOperation({ operationId: 'getProvider', summary: 'Get a provider (keys only as hints)' })
  @ApiOkResponse({ type: ProviderResponseDto, headers: ETAG_HEADER })
  @ApiProblemResponse(404, 'No such provider in this organization', PROVIDER_NOT_FOUND)
  async get(
    @CurrentAuth() auth: AuthContext,
    @Param('id') id: string,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<ProviderResponseDto> {
    return withEtag(reply, await this.providers.get(auth.orgId, id));
  }

  @Put(':id')
  @ApiOperation({
    operationId: 'replaceProvider',
    summary: 'Replace a provider; every agent that uses it uses the new settings from its next reply',
    description:
      'PUT replaces the whole provider: a member left out goes back to its default. Without api_key or credential_id the ' +
      'stored key is kept, and a header sent with its name only keeps its secret value, only while the origin is unchanged.',
  })
  @ApiHeader({
    name: 'If-Match',
    required: false,
    description: 'Replace only if the provider still has this ETag',
    schema: { type: 'string' },
  })
  @ApiBody({
    type: ProviderRequestDto,
    examples: {
      move: {
        summary: 'Point the provider at another model name',
        value: { ...PROVIDER_EXAMPLES.anthropic.value, api_key: undefined, model_map: { 'claude-sonnet-4-6': 'claude-opus-4-1' } },
      },
    },
  })
  @ApiOkResponse({ type: ProviderResponseDto, headers: ETAG_HEADER })
  @ApiJsonBodyProblems()
  @ApiProblemResponse(404, 'No such provider in this organization', PROVIDER_NOT_FOUND)
  @ApiProblemResponse(412, 'If-Match does not match the current ETag (precondition_failed)', PROBLEMS.preconditionFailed)
  @ApiProblemResponse(
    422,
    'Invalid body (api_key_required when no key is kept for a new origin, …)',
    invalid('base_url', 'https_required', 'must use https'),
  )
  async replace(
    @CurrentAuth() auth: AuthContext,
    @Param('id') id: string,
    @Body() body: ProviderRequestDto,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<ProviderResponseDto> {
    return withEtag(reply, await this.providers.replace(auth.orgId, id, toProviderInput(body), parseIfMatch(ifMatch)));
  }

  @Patch(':id')
  @ApiOperation({
    operationId: 'updateProvider',
    summary: 'Change some fields of a provider (JSON Merge Patch)',
    description:
      'An RFC 7396 merge patch of the provider as a read shows it; the result is validated as a whole body. The stored key ' +
      'and secret header values are kept under the same rule as PUT.',
  })
  @ApiConsumes('application/merge-patch+json', 'application/json')
  @ApiHeader({
    name: 'If-Match',
    required: false,
    description: 'Change only if the provider still has this ETag',
    schema: { type: 'string' },
  })
  @ApiBody({
    description: 'Any members of a provider body; `null` removes one',
    schema: { type: 'object', additionalProperties: true, title: 'ProviderPatch' },
    examples: {
      model_map: {
        summary: 'Map one more model, drop another',
        value: { model_map: { 'claude-haiku-4-5': 'claude-3-5-haiku', 'claude-v1': null } },
      },
    },
  })
  @ApiOkResponse({ type: ProviderResponseDto, headers: ETAG_HEADER })
  @ApiJsonBodyProblems()
  @ApiProblemResponse(404, 'No such provider in this organization', PROVIDER_NOT_FOUND)
  @ApiProblemResponse(412, 'If-Match does not match the current ETag (precondition_failed)', PROBLEMS.preconditionFailed)
  @ApiProblemResponse(
    422,
    'The patched provider is invalid (the same codes as PUT)',
    invalid('base_url', 'https_required', 'must use https'),
  )
  async update(
    @CurrentAuth() auth: AuthContext,
    @Param('id') id: string,
    @Body() patch: unknown,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<ProviderResponseDto> {
    return withEtag(
      reply,
      await this.providers.update(auth.orgId, id, (current) => patchedProviderInput(current, patch), parseIfMatch(ifMatch)),
    );
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({
    operationId: 'deleteProvider',
    summary: 'Delete a provider and the keys it owns',
    description: 'Refused while agents use it (provider_in_use); with force=true, their entries that use it are removed too.',
  })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiHeader({
    name: 'If-Match',
    required: false,
    description: 'Delete only if the provider still has this ETag',
    schema: { type: 'string' },
  })
  @ApiProblemResponse(404, 'No such provider in this organization', PROVIDER_NOT_FOUND)
  @ApiProblemResponse(409, 'In use (provider_in_use); pass force=true to delete it and the llm entries that use it', PROVIDER_IN_USE)
  @ApiProblemResponse(412, 'If-Match does not match the current ETag (precondition_failed)', PROBLEMS.preconditionFailed)
  @ApiProblemResponse(422, 'force is neither true nor false', invalid('force', 'is_in', 'must be one of the following values: true, false'))
  async delete(
    @CurrentAuth() auth: AuthContext,
    @Param('id') id: string,
    @Query() query: DeleteQueryDto,
    @Headers('if-match') ifMatch: string | undefined,
  ): Promise<void> {
    await this.providers.delete(auth.orgId, id, query.force === 'true', parseIfMatch(ifMatch));
  }
}

/** A create's response, as sent and as stored for an idempotent replay. */
function createdResponse(provider: Provider): StoredResponse {
  return {
    status: 201,
    headers: { location: `/v1/providers/${provider.id}`, etag: providerEtag(provider) },
    body: ProviderResponseDto.from(provider),
  };
}

function withEtag(reply: FastifyReply, provider: Provider): ProviderResponseDto {
  void reply.header('etag', providerEtag(provider));
  return ProviderResponseDto.from(provider);
}

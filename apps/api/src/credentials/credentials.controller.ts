import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { type AuthContext, CurrentAuth } from '#agentplane/auth';
import { CredentialsService } from '#agentplane/credentials';
import { DEFAULT_PAGE_SIZE, ListQueryDto } from '../http/list-query.dto.js';
import {
  ApiAuthenticatedProblems,
  ApiJsonBodyProblems,
  ApiListProblems,
  ApiProblemResponse,
  invalid,
  notFound,
  PROBLEMS,
  refused,
} from '../problem/api-problem-response.decorator.js';
import { DeleteQueryDto } from '../http/delete-query.dto.js';
import { CreateCredentialDto, ReplaceCredentialDto } from './credential-request.dto.js';
import { CredentialListResponseDto, CredentialResponseDto } from './credential-response.dto.js';

const CREATED_HEADERS = {
  Location: {
    description: 'Path of the new credential',
    schema: { type: 'string', example: '/v1/credentials/cred_5k2mc8q1vz3x0r9d7t4b6n8p2a' },
  },
};
// Sent as written by Swagger UI's "Try it out".
const CREDENTIAL_EXAMPLE = {
  name: 'OpenAI production',
  api_key: 'sk-proj-replace-with-your-own-key-0123',
  allowed_origins: ['https://api.openai.com'],
};
const CREDENTIAL_NOT_FOUND = notFound('Credential');
const MASKED_VALUE = refused(
  'masked_value_submitted',
  'api_key holds a masked hint, not a key. Send the real key, or leave api_key out to keep the stored one.',
  'api_key',
  'is a masked hint, not a key',
);
const INVALID_ORIGIN = invalid('allowed_origins[0]', 'https_required', 'must be an https origin');

@ApiTags('credentials')
@ApiBearerAuth()
@ApiAuthenticatedProblems()
@Controller('v1/credentials')
export class CredentialsController {
  constructor(private readonly credentials: CredentialsService) {}

  @Post()
  @ApiOperation({ operationId: 'createCredential', summary: 'Store a provider API key and the origins it may be sent to' })
  @ApiBody({ type: CreateCredentialDto, examples: { openai: { summary: 'A key for one origin', value: CREDENTIAL_EXAMPLE } } })
  @ApiCreatedResponse({ type: CredentialResponseDto, headers: CREATED_HEADERS })
  @ApiJsonBodyProblems()
  @ApiProblemResponse(422, 'Invalid body (masked_value_submitted when api_key is a hint)', INVALID_ORIGIN, MASKED_VALUE)
  async create(
    @CurrentAuth() auth: AuthContext,
    @Body() body: CreateCredentialDto,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<CredentialResponseDto> {
    const created = await this.credentials.create(auth.orgId, {
      name: body.name,
      apiKey: body.api_key,
      allowedOrigins: body.allowed_origins,
    });
    void reply.header('location', `/v1/credentials/${created.id}`);
    return CredentialResponseDto.from(created);
  }

  @Get()
  @ApiOperation({ operationId: 'listCredentials', summary: 'List credentials, newest first' })
  @ApiOkResponse({ type: CredentialListResponseDto })
  @ApiListProblems()
  async list(@CurrentAuth() auth: AuthContext, @Query() query: ListQueryDto): Promise<CredentialListResponseDto> {
    return CredentialListResponseDto.from(await this.credentials.list(auth.orgId, query.limit ?? DEFAULT_PAGE_SIZE, query.after));
  }

  @Get(':id')
  @ApiOperation({ operationId: 'getCredential', summary: 'Get a credential (the key only as its hint)' })
  @ApiOkResponse({ type: CredentialResponseDto })
  @ApiProblemResponse(404, 'No such credential in this organization', CREDENTIAL_NOT_FOUND)
  async get(@CurrentAuth() auth: AuthContext, @Param('id') id: string): Promise<CredentialResponseDto> {
    return CredentialResponseDto.from(await this.credentials.get(auth.orgId, id));
  }

  @Put(':id')
  @ApiOperation({ operationId: 'replaceCredential', summary: 'Rename, rotate the key, or change allowed origins' })
  @ApiBody({
    type: ReplaceCredentialDto,
    examples: {
      rename: { summary: 'Rename, keeping the stored key', value: { name: 'OpenAI (main)', allowed_origins: ['https://api.openai.com'] } },
    },
  })
  @ApiOkResponse({ type: CredentialResponseDto })
  @ApiJsonBodyProblems()
  @ApiProblemResponse(404, 'No such credential in this organization', CREDENTIAL_NOT_FOUND)
  @ApiProblemResponse(
    422,
    'Invalid body; api_key_required when adding an origin without a key',
    refused(
      'api_key_required',
      'Send api_key again to allow https://eu.api.openai.com: a stored key only goes to the origins it was given for.',
      'api_key',
      'is required when allowed_origins adds an origin',
    ),
    INVALID_ORIGIN,
    MASKED_VALUE,
  )
  async replace(
    @CurrentAuth() auth: AuthContext,
    @Param('id') id: string,
    @Body() body: ReplaceCredentialDto,
  ): Promise<CredentialResponseDto> {
    const replaced = await this.credentials.replace(auth.orgId, id, {
      name: body.name,
      allowedOrigins: body.allowed_origins,
      ...(body.api_key === undefined ? {} : { apiKey: body.api_key }),
    });
    return CredentialResponseDto.from(replaced);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ operationId: 'deleteCredential', summary: 'Delete a credential and its stored key' })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiProblemResponse(404, 'No such credential in this organization', CREDENTIAL_NOT_FOUND)
  @ApiProblemResponse(409, 'In use (credential_in_use); pass force=true to delete it and its uses', PROBLEMS.credentialInUse)
  @ApiProblemResponse(422, 'force is neither true nor false', invalid('force', 'is_in', 'must be one of the following values: true, false'))
  async delete(@CurrentAuth() auth: AuthContext, @Param('id') id: string, @Query() query: DeleteQueryDto): Promise<void> {
    await this.credentials.delete(auth.orgId, id, query.force === 'true');
  }
}

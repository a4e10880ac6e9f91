import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query, Res } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { type AuthContext, CurrentAuth } from '@agentplane/auth';
import { CredentialsService } from '@agentplane/credentials';
import { ApiProblemResponse } from '../problem/api-problem-response.decorator.js';
import { DEFAULT_PAGE_SIZE, ListQueryDto } from '../http/list-query.dto.js';
import { DeleteCredentialQueryDto } from './credential-query.dto.js';
import { CreateCredentialDto, ReplaceCredentialDto } from './credential-request.dto.js';
import { CredentialListResponseDto, CredentialResponseDto } from './credential-response.dto.js';

@ApiTags('credentials')
@ApiBearerAuth()
@ApiProblemResponse(401, 'Missing, unknown or revoked API key')
@Controller('v1/credentials')
export class CredentialsController {
  constructor(private readonly credentials: CredentialsService) {}

  @Post()
  @ApiOperation({ operationId: 'createCredential', summary: 'Store a provider API key and the origins it may be sent to' })
  @ApiCreatedResponse({ type: CredentialResponseDto })
  @ApiProblemResponse(422, 'Invalid body (masked_value_submitted when api_key is a hint)')
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
  @ApiProblemResponse(400, 'Invalid cursor')
  @ApiProblemResponse(422, 'Invalid limit')
  async list(@CurrentAuth() auth: AuthContext, @Query() query: ListQueryDto): Promise<CredentialListResponseDto> {
    return CredentialListResponseDto.from(
      await this.credentials.list(auth.orgId, query.limit ?? DEFAULT_PAGE_SIZE, query.after),
    );
  }

  @Get(':id')
  @ApiOperation({ operationId: 'getCredential', summary: 'Get a credential (the key only as its hint)' })
  @ApiOkResponse({ type: CredentialResponseDto })
  @ApiProblemResponse(404, 'No such credential in this organization')
  async get(@CurrentAuth() auth: AuthContext, @Param('id') id: string): Promise<CredentialResponseDto> {
    return CredentialResponseDto.from(await this.credentials.get(auth.orgId, id));
  }

  @Put(':id')
  @ApiOperation({ operationId: 'replaceCredential', summary: 'Rename, rotate the key, or change allowed origins' })
  @ApiOkResponse({ type: CredentialResponseDto })
  @ApiProblemResponse(404, 'No such credential in this organization')
  @ApiProblemResponse(422, 'Invalid body; api_key_required when adding an origin without a key')
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
  @ApiProblemResponse(404, 'No such credential in this organization')
  @ApiProblemResponse(409, 'In use (credential_in_use); pass force=true to delete it and its uses')
  async delete(
    @CurrentAuth() auth: AuthContext,
    @Param('id') id: string,
    @Query() query: DeleteCredentialQueryDto,
  ): Promise<void> {
    await this.credentials.delete(auth.orgId, id, query.force === 'true');
  }
}

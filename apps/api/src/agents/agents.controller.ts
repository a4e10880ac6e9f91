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
import { type Agent, agentEtag, AgentsService } from '#agentplane/agents';
import { type AuthContext, CurrentAuth } from '#agentplane/auth';
import type { StoredResponse } from '#agentplane/idempotency';
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
  PROBLEMS,
  refused,
} from '../problem/api-problem-response.decorator.js';
import { patchedAgentInput, toAgentInput } from './agent-input.js';
import { AgentRequestDto, WEATHER_TOOL_PARAMETERS } from './agent-request.dto.js';
import { AgentListResponseDto, AgentResponseDto } from './agent-response.dto.js';

const ETAG_HEADER = {
  ETag: { description: 'Version of the agent; send it as If-Match to update only that version', schema: { type: 'string' } },
};
const CREATED_HEADERS = {
  ...ETAG_HEADER,
  Location: { description: 'Path of the new agent', schema: { type: 'string', example: '/v1/agents/agt_5k2mc8q1vz3x0r9d7t4b6n8p2a' } },
  'Idempotent-Replayed': {
    description: 'Present (true) when this is the stored response of an earlier request with the same Idempotency-Key',
    schema: { type: 'string', enum: ['true'] },
  },
};
// Swagger UI's "Try it out" sends these as written: a body generated from the schema alone
// would carry both api_key and credential_id, which the API refuses.
const AGENT_EXAMPLE = {
  name: 'Support line',
  instructions: 'You answer for {{company}}, open {{hours}}. Answer in one sentence.',
  llm: [
    {
      base_url: 'https://api.openai.com/v1',
      model: 'gpt-4o-mini',
      api_key: 'sk-proj-replace-with-your-own-key-0123',
      headers: [{ name: 'OpenAI-Project', value: 'proj_support' }],
    },
  ],
  temperature: 0.7,
  max_tokens: 512,
  metadata: { team: 'support' },
  tools: [{ type: 'function', name: 'get_weather', description: 'The current weather in a city', parameters: WEATHER_TOOL_PARAMETERS }],
  system_tools: {
    end_call: {},
    transfer_to_number: { transfers: [{ number: '+14155550123', condition: 'The caller asks for a human' }] },
  },
  forward_metadata: true,
  variables: { company: 'Acme', hours: '9:00-17:00' },
};
// One runnable agent per native spec: each vendor's own path, key header and tool format.
const SPEC_EXAMPLES = {
  anthropic: {
    summary: 'Anthropic Messages (Claude): key sent as x-api-key, instructions as system',
    value: {
      name: 'Claude line',
      instructions: 'Answer in one sentence.',
      max_tokens: 300,
      llm: [
        {
          api: 'anthropic',
          base_url: 'https://api.anthropic.com/v1',
          model: 'claude-sonnet-4-5',
          api_key: 'sk-ant-replace-with-your-own-key',
        },
      ],
      system_tools: { end_call: {} },
    },
  },
  google: {
    summary: 'Google Gemini: key sent as x-goog-api-key, thinking turned off for a faster first token',
    value: {
      name: 'Gemini line',
      instructions: 'Answer in one sentence.',
      temperature: 0.4,
      llm: [
        {
          api: 'google',
          base_url: 'https://generativelanguage.googleapis.com/v1beta',
          model: 'gemini-2.5-flash',
          api_key: 'AIza-replace-with-your-own-key-0123',
          extra_body: { generationConfig: { thinkingConfig: { thinkingBudget: 0 } } },
        },
      ],
    },
  },
  azure: {
    summary: 'Azure OpenAI deployment (key sent as api-key), falling back to Anthropic',
    value: {
      name: 'Azure line',
      instructions: 'Answer in one sentence.',
      llm: [
        {
          api: 'azure',
          azure: { resource: 'contoso-eastus', api_version: '2024-10-21', deployment: 'gpt-4o-mini-prod' },
          model: 'gpt-4o-mini',
          api_key: 'replace-with-your-azure-key-0123456789',
        },
        {
          api: 'anthropic',
          base_url: 'https://api.anthropic.com/v1',
          model: 'claude-haiku-4-5',
          api_key: 'sk-ant-replace-with-your-own-key',
        },
      ],
    },
  },
};
const AGENT_NOT_FOUND = notFound('Agent');
const INVALID_BASE_URL = invalid('llm[0].base_url', 'https_required', 'must use https');
const API_KEY_REQUIRED = refused(
  'api_key_required',
  'An llm entry needs a key: a stored key is only kept for the same origin at the same index.',
  'llm[0].api_key',
  'is required: no key is stored for this origin at this index',
);
const INVALID_TOOL_SCHEMA = invalid(
  'tools[0].parameters.properties.city.type',
  'invalid_json_schema',
  'must be equal to one of the allowed values: "array", "boolean", "integer", "null", "number", "object", "string"',
);
const MASKED_VALUE = refused(
  'masked_value_submitted',
  'api_key holds a masked hint, not a key. Send the real key, or leave api_key out to keep the stored one.',
  'llm[0].api_key',
  'is a masked hint, not a key',
);

@ApiTags('agents')
@ApiBearerAuth()
@ApiAuthenticatedProblems()
@Controller('v1/agents')
export class AgentsController {
  constructor(private readonly agents: AgentsService) {}

  @Post()
  @ApiOperation({ operationId: 'createAgent', summary: 'Create an agent and the LLM endpoints it answers with' })
  @ApiHeader({
    name: 'Idempotency-Key',
    required: false,
    description:
      'Retry-safe creation: the same key with the same body within 24 h returns the first response; with another body, 422; ' +
      'while the first request with the key is still running, a retry waits for it (409 after 15 s)',
    schema: { type: 'string', maxLength: 255 },
  })
  @ApiBody({
    type: AgentRequestDto,
    examples: { inline_key: { summary: 'One endpoint, its key inline', value: AGENT_EXAMPLE }, ...SPEC_EXAMPLES },
  })
  @ApiCreatedResponse({ type: AgentResponseDto, headers: CREATED_HEADERS })
  @ApiJsonBodyProblems()
  @ApiProblemResponse(
    409,
    'The first request with this Idempotency-Key is still running (idempotency_key_in_progress)',
    PROBLEMS.idempotencyKeyInProgress,
  )
  @ApiProblemResponse(
    422,
    'Invalid body (api_key_required, credential_origin_mismatch, masked_value_submitted, base_url codes, invalid_json_schema, …) or idempotency_key_reused',
    INVALID_BASE_URL,
    INVALID_TOOL_SCHEMA,
    API_KEY_REQUIRED,
    MASKED_VALUE,
    {
      code: 'idempotency_key_reused',
      detail: 'This Idempotency-Key was used with a different request in the last 24 hours.',
    },
  )
  async create(
    @CurrentAuth() auth: AuthContext,
    @Body() body: AgentRequestDto,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<AgentResponseDto> {
    const idempotent = parseIdempotencyKey(idempotencyKey, 'POST', '/v1/agents', request.body);
    const result = await this.agents.create(
      auth.orgId,
      toAgentInput(body),
      idempotent === undefined ? undefined : { ...idempotent, present: createdResponse },
    );
    const replayed = 'replay' in result;
    return sendStoredResponse(reply, replayed ? result.replay : createdResponse(result.agent), replayed) as AgentResponseDto;
  }

  @Get()
  @ApiOperation({ operationId: 'listAgents', summary: 'List agents, newest first' })
  @ApiOkResponse({ type: AgentListResponseDto })
  @ApiListProblems()
  async list(@CurrentAuth() auth: AuthContext, @Query() query: ListQueryDto): Promise<AgentListResponseDto> {
    return AgentListResponseDto.from(await this.agents.list(auth.orgId, query.limit ?? DEFAULT_PAGE_SIZE, query.after));
  }

  @Get(':id')
  @ApiOperation({ operationId: 'getAgent', summary: 'Get an agent (keys only as hints)' })
  @ApiOkResponse({ type: AgentResponseDto, headers: ETAG_HEADER })
  @ApiProblemResponse(404, 'No such agent in this organization', AGENT_NOT_FOUND)
  async get(
    @CurrentAuth() auth: AuthContext,
    @Param('id') id: string,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<AgentResponseDto> {
    return withEtag(reply, await this.agents.get(auth.orgId, id));
  }

  @Put(':id')
  @ApiOperation({
    operationId: 'replaceAgent',
    summary: 'Replace an agent (keys are kept per entry only for the same origin)',
    description:
      'PUT replaces the whole agent: a member left out goes back to its default, so leaving `llm` out removes every entry ' +
      'and the keys the agent owns, and leaving `tools` out removes the tools. To change some fields only, use PATCH.',
  })
  @ApiHeader({
    name: 'If-Match',
    required: false,
    description: 'Replace only if the agent still has this ETag',
    schema: { type: 'string' },
  })
  @ApiBody({
    type: AgentRequestDto,
    examples: {
      rename_keep_key: {
        summary: 'Rename, keeping the stored key of entry 0',
        value: {
          ...AGENT_EXAMPLE,
          name: 'Support line (renamed)',
          llm: [{ base_url: 'https://api.openai.com/v1', model: 'gpt-4o-mini', headers: AGENT_EXAMPLE.llm[0]!.headers }],
        },
      },
    },
  })
  @ApiOkResponse({ type: AgentResponseDto, headers: ETAG_HEADER })
  @ApiJsonBodyProblems()
  @ApiProblemResponse(404, 'No such agent in this organization', AGENT_NOT_FOUND)
  @ApiProblemResponse(412, 'If-Match does not match the current ETag (precondition_failed)', PROBLEMS.preconditionFailed)
  @ApiProblemResponse(
    422,
    'Invalid body (api_key_required when an entry keeps no key for a new origin, credential_origin_mismatch, …)',
    API_KEY_REQUIRED,
    INVALID_BASE_URL,
    INVALID_TOOL_SCHEMA,
    MASKED_VALUE,
  )
  async replace(
    @CurrentAuth() auth: AuthContext,
    @Param('id') id: string,
    @Body() body: AgentRequestDto,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<AgentResponseDto> {
    return withEtag(reply, await this.agents.replace(auth.orgId, id, toAgentInput(body), parseIfMatch(ifMatch)));
  }

  @Patch(':id')
  @ApiOperation({
    operationId: 'updateAgent',
    summary: 'Change some fields of an agent (JSON Merge Patch)',
    description:
      'An RFC 7396 merge patch of the agent as a read shows it: members present replace, `null` removes a member ' +
      '(back to its default), objects merge member by member (`{"metadata": {"team": null}}` removes one pair), arrays ' +
      'replace whole. `llm` entries and `headers` sent without their key or secret value keep the stored one under the ' +
      'same rule as PUT (same index and origin; for a header, the same name). The result is validated as a whole body, ' +
      'so errors name paths of the patched agent. Sent as `application/merge-patch+json` (`application/json` is accepted too).',
  })
  @ApiConsumes('application/merge-patch+json', 'application/json')
  @ApiHeader({ name: 'If-Match', required: false, description: 'Change only if the agent still has this ETag', schema: { type: 'string' } })
  @ApiBody({
    description: 'Any members of an agent body; `null` removes one',
    schema: { type: 'object', additionalProperties: true, title: 'AgentPatch' },
    examples: {
      rename: { summary: 'Rename, leaving everything else as it is', value: { name: 'Support line (evenings)' } },
      tools: {
        summary: 'Turn end_call on and voicemail detection off, drop one metadata pair',
        value: { system_tools: { end_call: {}, voicemail_detection: null }, metadata: { team: null } },
      },
    },
  })
  @ApiOkResponse({ type: AgentResponseDto, headers: ETAG_HEADER })
  @ApiJsonBodyProblems()
  @ApiProblemResponse(404, 'No such agent in this organization', AGENT_NOT_FOUND)
  @ApiProblemResponse(412, 'If-Match does not match the current ETag (precondition_failed)', PROBLEMS.preconditionFailed)
  @ApiProblemResponse(
    422,
    'The patched agent is invalid (the same codes as PUT, paths of the patched agent)',
    API_KEY_REQUIRED,
    INVALID_BASE_URL,
    INVALID_TOOL_SCHEMA,
    MASKED_VALUE,
  )
  async update(
    @CurrentAuth() auth: AuthContext,
    @Param('id') id: string,
    @Body() patch: unknown,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<AgentResponseDto> {
    return withEtag(reply, await this.agents.update(auth.orgId, id, (current) => patchedAgentInput(current, patch), parseIfMatch(ifMatch)));
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ operationId: 'deleteAgent', summary: 'Delete an agent and the keys it owns' })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiHeader({ name: 'If-Match', required: false, description: 'Delete only if the agent still has this ETag', schema: { type: 'string' } })
  @ApiProblemResponse(404, 'No such agent in this organization', AGENT_NOT_FOUND)
  @ApiProblemResponse(412, 'If-Match does not match the current ETag (precondition_failed)', PROBLEMS.preconditionFailed)
  async delete(@CurrentAuth() auth: AuthContext, @Param('id') id: string, @Headers('if-match') ifMatch: string | undefined): Promise<void> {
    await this.agents.delete(auth.orgId, id, parseIfMatch(ifMatch));
  }
}

/** A create's response, as sent and as stored for an idempotent replay. */
function createdResponse(agent: Agent): StoredResponse {
  return { status: 201, headers: { location: `/v1/agents/${agent.id}`, etag: agentEtag(agent) }, body: AgentResponseDto.from(agent) };
}

function withEtag(reply: FastifyReply, agent: Agent): AgentResponseDto {
  void reply.header('etag', agentEtag(agent));
  return AgentResponseDto.from(agent);
}

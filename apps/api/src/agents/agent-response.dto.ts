import { ApiProperty, ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';
import type { Page } from '#agentplane/db';
import { type Agent, type LlmEntry, systemToolsToWire, usesProvider } from '#agentplane/agents';
import { AUTH_SCHEMES, type AuthScheme, LLM_APIS, type LlmApi, type LlmTimeouts } from '#agentplane/endpoints';
import { AzureSettingsDto } from '../endpoints/endpoint-request.dto.js';
import { endpointResponse, LlmHeaderResponseDto } from '../endpoints/endpoint-response.dto.js';
import { LlmTimeoutsDto, SystemToolsDto, ToolDto } from './agent-request.dto.js';

const WITHOUT_PROVIDER = 'Present unless the entry uses a provider';

@ApiSchema({
  name: 'LlmEntry',
  description: 'An llm entry: its own endpoint, or (provider_id) a provider of the organization, with model and timeouts only',
})
export class LlmEntryResponseDto {
  @ApiPropertyOptional({ example: 'prv_5k2mc8q1vz3x0r9d7t4b6n8p2a', description: 'Present for an entry that uses a provider' })
  provider_id?: string;
  @ApiPropertyOptional({ example: 'https://api.openai.com/v1', description: WITHOUT_PROVIDER })
  base_url?: string;
  @ApiProperty({ example: 'gpt-4o-mini', description: "As the entry names it (a provider's model_map applies at reply time)" })
  model!: string;
  @ApiPropertyOptional({ enum: LLM_APIS, description: WITHOUT_PROVIDER })
  api?: LlmApi;
  @ApiPropertyOptional({ type: AzureSettingsDto, description: 'Present for api azure when set' })
  azure?: AzureSettingsDto;
  @ApiPropertyOptional({ enum: AUTH_SCHEMES, description: WITHOUT_PROVIDER })
  auth?: AuthScheme;
  @ApiPropertyOptional({
    readOnly: true,
    example: '****x7Qa',
    description: '"****", plus the last 4 characters when the key has at least 20; absent for auth none',
  })
  api_key_hint?: string;
  @ApiPropertyOptional({ description: 'The organization credential this entry uses; absent when the key was given inline' })
  credential_id?: string;
  @ApiPropertyOptional({ type: LlmTimeoutsDto, description: 'Present when the entry overrides the runtime timeouts' })
  timeouts?: LlmTimeouts;
  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    example: { reasoning_effort: 'low' },
    description: 'Present when the entry sets one: merged into every upstream request body',
  })
  extra_body?: Record<string, unknown>;
  @ApiPropertyOptional({ type: [LlmHeaderResponseDto], description: WITHOUT_PROVIDER })
  headers?: LlmHeaderResponseDto[];

  static from(entry: LlmEntry): LlmEntryResponseDto {
    const timeouts = entry.timeouts === undefined ? {} : { timeouts: { ...entry.timeouts } };
    if (usesProvider(entry)) return { provider_id: entry.providerId, model: entry.model, ...timeouts };
    const { base_url, api, azure, auth, api_key_hint, credential_id, extra_body, headers } = endpointResponse(entry);
    // Spelled out so that a read lists the fields in the order the schema does.
    return {
      base_url,
      model: entry.model,
      api,
      ...(azure === undefined ? {} : { azure }),
      auth,
      ...(api_key_hint === undefined ? {} : { api_key_hint }),
      ...(credential_id === undefined ? {} : { credential_id }),
      ...timeouts,
      ...(extra_body === undefined ? {} : { extra_body }),
      headers,
    };
  }
}

/** An agent as every read shows it: keys only as hints. */
@ApiSchema({ name: 'Agent' })
export class AgentResponseDto {
  @ApiProperty({ example: 'agt_5k2mc8q1vz3x0r9d7t4b6n8p2a' })
  id!: string;
  @ApiProperty({ enum: ['agent'] })
  object!: 'agent';
  @ApiProperty()
  name!: string;
  @ApiProperty({ nullable: true, type: String })
  instructions!: string | null;
  @ApiProperty({ type: [LlmEntryResponseDto] })
  llm!: LlmEntryResponseDto[];
  @ApiProperty({ nullable: true, type: Number })
  temperature!: number | null;
  @ApiProperty({ nullable: true, type: 'integer' })
  max_tokens!: number | null;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' } })
  metadata!: Record<string, string>;
  @ApiProperty({ type: [ToolDto] })
  tools!: ToolDto[];
  @ApiProperty({ type: SystemToolsDto })
  system_tools!: SystemToolsDto;
  @ApiProperty()
  forward_metadata!: boolean;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' } })
  variables!: Record<string, string>;
  @ApiProperty({ format: 'date-time' })
  created_at!: string;
  @ApiProperty({ format: 'date-time' })
  updated_at!: string;

  static from(agent: Agent): AgentResponseDto {
    return {
      id: agent.id,
      object: 'agent',
      name: agent.name,
      instructions: agent.instructions,
      llm: agent.llm.map((e) => LlmEntryResponseDto.from(e)),
      temperature: agent.temperature,
      max_tokens: agent.maxTokens,
      metadata: { ...agent.metadata },
      tools: agent.tools.map((t) => ({
        type: 'function' as const,
        name: t.name,
        ...(t.description === undefined ? {} : { description: t.description }),
        ...(t.parameters === undefined ? {} : { parameters: t.parameters }),
      })),
      system_tools: systemToolsToWire(agent.systemTools),
      forward_metadata: agent.forwardMetadata,
      variables: { ...agent.variables },
      created_at: agent.createdAt.toISOString(),
      updated_at: agent.updatedAt.toISOString(),
    };
  }
}

@ApiSchema({ name: 'AgentList' })
export class AgentListResponseDto {
  @ApiProperty({ type: [AgentResponseDto] })
  data!: AgentResponseDto[];
  @ApiProperty()
  has_more!: boolean;
  @ApiProperty({ nullable: true, type: String, description: 'Pass as `after` for the next page' })
  next_cursor!: string | null;

  static from(page: Page<Agent>): AgentListResponseDto {
    return { data: page.data.map((a) => AgentResponseDto.from(a)), has_more: page.hasMore, next_cursor: page.nextCursor };
  }
}

import { ApiProperty, ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';
import type { Page } from '#agentplane/db';
import { type Agent, systemToolsToWire, type LlmEntry } from '#agentplane/agents';
import { AUTH_SCHEMES, type AuthScheme, type AzureSettings, LLM_APIS, type LlmApi, type LlmTimeouts } from '#agentplane/endpoints';
import { AzureSettingsDto, LlmTimeoutsDto, SystemToolsDto, ToolDto } from './agent-request.dto.js';

@ApiSchema({ name: 'LlmHeader', description: 'An extra header: its value, or for a secret one only a hint' })
export class LlmHeaderResponseDto {
  @ApiProperty({ example: 'OpenAI-Project' })
  name!: string;
  @ApiPropertyOptional({ example: 'proj_support', description: 'Present for a plain header' })
  value?: string;
  @ApiPropertyOptional({
    readOnly: true,
    example: '****x7Qa',
    description: 'Present instead of value for a secret header: "****", plus the last 4 characters when it has at least 20',
  })
  value_hint?: string;

  static from(header: LlmEntry['headers'][number]): LlmHeaderResponseDto {
    return 'value' in header ? { name: header.name, value: header.value } : { name: header.name, value_hint: header.valueHint };
  }
}

@ApiSchema({ name: 'LlmEntry' })
export class LlmEntryResponseDto {
  @ApiProperty({ example: 'https://api.openai.com/v1' })
  base_url!: string;
  @ApiProperty({ example: 'gpt-4o-mini' })
  model!: string;
  @ApiProperty({ enum: LLM_APIS })
  api!: LlmApi;
  @ApiPropertyOptional({ type: AzureSettingsDto, description: 'Present for api azure when set' })
  azure?: AzureSettingsDto;
  @ApiProperty({ enum: AUTH_SCHEMES })
  auth!: AuthScheme;
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
  @ApiProperty({ type: [LlmHeaderResponseDto] })
  headers!: LlmHeaderResponseDto[];

  static from(entry: LlmEntry): LlmEntryResponseDto {
    return {
      base_url: entry.baseUrl,
      model: entry.model,
      api: entry.api,
      ...(entry.azure === undefined ? {} : { azure: azureResponse(entry.azure) }),
      auth: entry.auth,
      ...(entry.apiKeyHint === null ? {} : { api_key_hint: entry.apiKeyHint }),
      ...(entry.ownedKey || entry.credentialId === null ? {} : { credential_id: entry.credentialId }),
      ...(entry.timeouts === undefined ? {} : { timeouts: { ...entry.timeouts } }),
      ...(entry.extraBody === undefined ? {} : { extra_body: entry.extraBody }),
      headers: entry.headers.map((h) => LlmHeaderResponseDto.from(h)),
    };
  }
}

function azureResponse(azure: AzureSettings): AzureSettingsDto {
  return {
    ...(azure.resource === undefined ? {} : { resource: azure.resource }),
    ...(azure.apiVersion === undefined ? {} : { api_version: azure.apiVersion }),
    ...(azure.deployment === undefined ? {} : { deployment: azure.deployment }),
  };
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

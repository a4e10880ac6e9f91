import { ApiProperty, ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';
import type { Page } from '#agentplane/db';
import { type Agent, LLM_APIS, type LlmApi, type LlmEntry, type LlmTimeouts } from '#agentplane/agents';
import { LlmTimeoutsDto } from './agent-request.dto.js';

@ApiSchema({ name: 'LlmEntry' })
export class LlmEntryResponseDto {
  @ApiProperty({ example: 'https://api.openai.com/v1' })
  base_url!: string;
  @ApiProperty({ example: 'gpt-4o-mini' })
  model!: string;
  @ApiProperty({ enum: LLM_APIS })
  api!: LlmApi;
  @ApiProperty({ readOnly: true, example: '****x7Qa', description: '"****", plus the last 4 characters when the key has at least 20' })
  api_key_hint!: string;
  @ApiPropertyOptional({ description: 'The organization credential this entry uses; absent when the key was given inline' })
  credential_id?: string;
  @ApiPropertyOptional({ type: LlmTimeoutsDto, description: 'Present when the entry overrides the runtime timeouts' })
  timeouts?: LlmTimeouts;

  static from(entry: LlmEntry): LlmEntryResponseDto {
    return {
      base_url: entry.baseUrl,
      model: entry.model,
      api: entry.api,
      api_key_hint: entry.apiKeyHint,
      ...(entry.ownedKey ? {} : { credential_id: entry.credentialId }),
      ...(entry.timeouts === undefined ? {} : { timeouts: { ...entry.timeouts } }),
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

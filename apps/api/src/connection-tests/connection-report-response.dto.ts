import { ApiProperty, ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';
import { type ConnectionReport, TEST_STEPS, type TestStep, type TestStepCode, type TestStepName } from '#agentplane/runtime';

@ApiSchema({ name: 'ConnectionTestStep', description: 'One step of a connection test, timed from the end of the step before.' })
export class ConnectionTestStepDto {
  @ApiProperty({ enum: TEST_STEPS })
  name!: TestStepName;

  @ApiProperty()
  ok!: boolean;

  @ApiProperty({ type: 'integer', example: 12 })
  duration_ms!: number;

  @ApiPropertyOptional({
    type: String,
    example: 'upstream_tls_untrusted',
    description: 'Why it failed, in one word (only on the step that failed)',
  })
  code?: TestStepCode;

  @ApiPropertyOptional({ type: 'integer', example: 200, description: 'For request: the HTTP status the upstream answered' })
  http_status?: number;

  static from(step: TestStep): ConnectionTestStepDto {
    return {
      name: step.name,
      ok: step.ok,
      duration_ms: step.durationMs,
      ...(step.code === undefined ? {} : { code: step.code }),
      ...(step.httpStatus === undefined ? {} : { http_status: step.httpStatus }),
    };
  }
}

@ApiSchema({
  name: 'ConnectionTestReport',
  description:
    "What a connection test found: each step in order (policy, dns, connect, tls, request, stream, first_token), up to the first that failed. Never the upstream's body.",
})
export class ConnectionTestReportDto {
  @ApiProperty({ enum: ['connection_test'] })
  object!: 'connection_test';

  @ApiProperty()
  ok!: boolean;

  @ApiProperty({ nullable: true, type: String, example: null, description: "The failing step's code, or null" })
  code!: TestStepCode | null;

  @ApiProperty({ nullable: true, type: String, example: null, description: 'What the code means and what to do about it' })
  message!: string | null;

  @ApiProperty({ example: 'gpt-4o-mini', description: "The model asked for (after a provider's model_map)" })
  model!: string;

  @ApiProperty({
    nullable: true,
    type: String,
    example: 'gpt-4o-mini-2024-07-18',
    description: 'The model the endpoint said it is, when it said so before its first token',
  })
  reported_model!: string | null;

  @ApiProperty({ type: [ConnectionTestStepDto] })
  steps!: ConnectionTestStepDto[];

  @ApiProperty({ type: 'integer', example: 412 })
  duration_ms!: number;

  static from(report: ConnectionReport): ConnectionTestReportDto {
    return {
      object: 'connection_test',
      ok: report.ok,
      code: report.code,
      message: report.message,
      model: report.model,
      reported_model: report.reportedModel,
      steps: report.steps.map((s) => ConnectionTestStepDto.from(s)),
      duration_ms: report.durationMs,
    };
  }
}

@ApiSchema({ name: 'AgentConnectionTestEntry' })
export class AgentConnectionTestEntryDto extends ConnectionTestReportDto {
  @ApiProperty({ type: 'integer', example: 0, description: 'The position of the entry in llm' })
  entry_index!: number;
}

@ApiSchema({ name: 'AgentConnectionTest', description: "A connection test of each of an agent's llm entries, as stored." })
export class AgentConnectionTestDto {
  @ApiProperty({ enum: ['agent_connection_test'] })
  object!: 'agent_connection_test';

  @ApiProperty({ example: 'agt_5k2mc8q1vz3x0r9d7t4b6n8p2a' })
  agent_id!: string;

  @ApiProperty({ description: 'Every entry passed (false for an agent without entries)' })
  ok!: boolean;

  @ApiProperty({ type: [AgentConnectionTestEntryDto] })
  entries!: AgentConnectionTestEntryDto[];

  static from(agent: { readonly id: string }, reports: readonly ConnectionReport[]): AgentConnectionTestDto {
    return {
      object: 'agent_connection_test',
      agent_id: agent.id,
      ok: reports.length > 0 && reports.every((r) => r.ok),
      entries: reports.map((report, i) => ({ ...ConnectionTestReportDto.from(report), entry_index: i })),
    };
  }
}

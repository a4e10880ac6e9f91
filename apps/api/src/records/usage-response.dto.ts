import { ApiProperty, ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';
import type { UsageFigures, UsageGroupBy, UsageReport } from '#agentplane/records';

@ApiSchema({ name: 'UsagePercentiles', description: 'Milliseconds; null when no reply relayed anything' })
export class UsagePercentilesDto {
  @ApiProperty({ type: 'integer', nullable: true, example: 380 })
  p50!: number | null;
  @ApiProperty({ type: 'integer', nullable: true, example: 1210 })
  p95!: number | null;
}

@ApiSchema({ name: 'UsageTokens', description: 'Tokens the upstreams reported, summed' })
export class UsageTokensDto {
  @ApiProperty({ type: 'integer', example: 18250 })
  input!: number;
  @ApiProperty({ type: 'integer', example: 4120 })
  output!: number;
  @ApiProperty({ type: 'integer', example: 22370 })
  total!: number;
}

@ApiSchema({ name: 'UsageFigures', description: 'What a set of replies adds up to' })
export class UsageFiguresDto {
  @ApiProperty({ type: 'integer', example: 120 })
  replies!: number;
  @ApiProperty({ type: 'integer', example: 112 })
  completed!: number;
  @ApiProperty({ type: 'integer', example: 3, description: 'The caller went away before the reply ended' })
  cancelled!: number;
  @ApiProperty({ type: 'integer', example: 5, description: 'Replies that ended with an error, of any code' })
  failed!: number;
  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'integer' },
    example: { upstream_status: 4, upstream_timeout_first_token: 1 },
    description: 'How many replies failed with each error code',
  })
  errors!: Record<string, number>;
  @ApiProperty({ type: UsagePercentilesDto, description: 'Time to first token of the replies that relayed something' })
  ttft_ms!: UsagePercentilesDto;
  @ApiProperty({ type: UsageTokensDto })
  tokens!: UsageTokensDto;

  static from(figures: UsageFigures): UsageFiguresDto {
    return {
      replies: figures.replies,
      completed: figures.completed,
      cancelled: figures.cancelled,
      failed: figures.failed,
      errors: { ...figures.errors },
      ttft_ms: { ...figures.ttftMs },
      tokens: { ...figures.tokens },
    };
  }
}

@ApiSchema({ name: 'UsageGroup', description: 'The figures of one agent (`group_by=agent`) or one UTC day (`group_by=day`)' })
export class UsageGroupDto extends UsageFiguresDto {
  @ApiPropertyOptional({ example: 'agt_5k2mc8q1vz3x0r9d7t4b6n8p2a', description: 'With group_by=agent (an agent deleted since included)' })
  agent_id?: string;
  @ApiPropertyOptional({ format: 'date', example: '2026-12-01', description: 'With group_by=day' })
  day?: string;
}

@ApiSchema({ name: 'UsageReport' })
export class UsageReportResponseDto {
  @ApiProperty({ enum: ['usage'] })
  object!: 'usage';
  @ApiProperty({ format: 'date-time', description: 'Start of the window (inclusive)' })
  from!: string;
  @ApiProperty({ format: 'date-time', description: 'End of the window (exclusive)' })
  to!: string;
  @ApiProperty({ enum: ['agent', 'day'] })
  group_by!: UsageGroupBy;
  @ApiProperty({ type: [UsageGroupDto], description: 'Groups with at least one reply, by agent id or by day' })
  groups!: UsageGroupDto[];
  @ApiProperty({ type: UsageFiguresDto, description: 'The whole window' })
  totals!: UsageFiguresDto;

  static from(report: UsageReport): UsageReportResponseDto {
    const key = report.groupBy === 'agent' ? 'agent_id' : 'day';
    return {
      object: 'usage',
      from: report.from.toISOString(),
      to: report.to.toISOString(),
      group_by: report.groupBy,
      groups: report.groups.map((group) => ({ [key]: group.key, ...UsageFiguresDto.from(group) })),
      totals: UsageFiguresDto.from(report.totals),
    };
  }
}

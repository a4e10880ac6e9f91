import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsISO8601, IsOptional, IsString, Matches } from 'class-validator';
import type { UsageGroupBy } from '#agentplane/records';

const GROUP_BY: readonly UsageGroupBy[] = ['agent', 'day'];
// A date-time with its offset, or a date (UTC midnight): what JavaScript and PostgreSQL read alike.
const DATE_TIME = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}(\.\d{1,3})?(Z|[+-]\d{2}:\d{2}))?$/;
const INVALID_DATE_TIME = {
  message: 'must be a date-time like 2026-12-01T00:00:00Z, or a date',
  context: { code: 'invalid_date_time' },
};

/** `?from=&to=&group_by=` of the usage report. */
export class UsageQueryDto {
  @ApiPropertyOptional({
    format: 'date-time',
    example: '2026-12-01T00:00:00Z',
    description: 'Start of the window (inclusive), by when replies started. Default: a day before `to`. A date is its UTC midnight.',
  })
  @IsOptional()
  @IsString()
  @Matches(DATE_TIME, INVALID_DATE_TIME)
  // Also refuses dates that do not exist, like February 30.
  @IsISO8601({ strict: true, strictSeparator: true }, INVALID_DATE_TIME)
  from?: string;

  @ApiPropertyOptional({
    format: 'date-time',
    example: '2026-12-08T00:00:00Z',
    description: 'End of the window (exclusive). Default: now. At most 92 days after `from`.',
  })
  @IsOptional()
  @IsString()
  @Matches(DATE_TIME, INVALID_DATE_TIME)
  @IsISO8601({ strict: true, strictSeparator: true }, INVALID_DATE_TIME)
  to?: string;

  @ApiPropertyOptional({ enum: GROUP_BY, default: 'agent', description: 'One group per agent, or per UTC day' })
  @IsOptional()
  @IsIn(GROUP_BY)
  group_by?: UsageGroupBy;
}

import { Inject, Injectable } from '@nestjs/common';
import { AgentsService } from '#agentplane/agents';
import type { OrgId } from '#agentplane/auth';
import { Clock } from '#agentplane/clock';
import { APP_CONFIG, type AppConfig } from '#agentplane/config';
import { type Page, pageRequest } from '#agentplane/db';
import { DomainError } from '#agentplane/errors';
import type { ReplyRecord, UsageGroupBy, UsageReport } from './reply-record.js';
import { ReplyRecordRepository } from './reply-record.repository.js';

const HOUR_MS = 60 * 60 * 1000;
const DAY_MS = 24 * HOUR_MS;
/** The longest window a usage report covers: a quarter. */
export const MAX_USAGE_WINDOW_DAYS = 92;
/** A usage report without `from` covers the day before `to`. */
const DEFAULT_USAGE_WINDOW_MS = DAY_MS;
const PRUNE_BATCH = 1_000;

export interface UsageQuery {
  readonly from?: Date;
  readonly to?: Date;
  readonly groupBy: UsageGroupBy;
}

/** Reply records: an agent's, page by page; usage over a window; pruning by age. */
@Injectable()
export class RecordsService {
  constructor(
    private readonly records: ReplyRecordRepository,
    private readonly agents: AgentsService,
    private readonly clock: Clock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * A page of an agent's records, newest first. Records outlive the agent (usage must still count
   * its replies), so they are listed while any is left; an id that names neither an agent of the
   * organization nor any of its records is a 404, as for any other resource.
   */
  async list(orgId: OrgId, agentId: string, limit: number, cursor?: string): Promise<Page<ReplyRecord>> {
    const page = await this.records.listPage(orgId, agentId, pageRequest(limit, cursor));
    if (page.data.length === 0 && cursor === undefined) await this.agents.get(orgId, agentId);
    return page;
  }

  /**
   * Usage of the replies that started in `[from, to)`: `to` defaults to now, `from` to a day
   * before `to`. The window is at most MAX_USAGE_WINDOW_DAYS long.
   */
  async usage(orgId: OrgId, query: UsageQuery): Promise<UsageReport> {
    const to = query.to ?? this.clock.now();
    const from = query.from ?? new Date(to.getTime() - DEFAULT_USAGE_WINDOW_MS);
    if (from.getTime() >= to.getTime()) {
      throw DomainError.validation([{ path: 'from', code: 'invalid_window', message: 'must be before to' }]);
    }
    if (to.getTime() - from.getTime() > MAX_USAGE_WINDOW_DAYS * DAY_MS) {
      throw DomainError.validation([
        { path: 'from', code: 'invalid_window', message: `must be at most ${MAX_USAGE_WINDOW_DAYS} days before to` },
      ]);
    }
    const { groups, totals } = await this.records.usage(orgId, from, to, query.groupBy);
    return { from, to, groupBy: query.groupBy, groups, totals };
  }

  /**
   * Deletes every organization's records that started more than AGENTPLANE_RECORD_RETENTION_DAYS
   * ago, a batch per statement (no long lock on the table); returns how many went.
   */
  async prune(): Promise<number> {
    const cutoff = new Date(this.clock.now().getTime() - this.config.recordRetentionDays * DAY_MS);
    let total = 0;
    for (let deleted = PRUNE_BATCH; deleted === PRUNE_BATCH; total += deleted) {
      deleted = await this.records.pruneOlderThan(cutoff, PRUNE_BATCH);
    }
    return total;
  }
}

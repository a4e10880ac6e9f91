import { jest } from '@jest/globals';
import type { AgentsService } from '#agentplane/agents';
import { asOrgId } from '#agentplane/auth';
import type { Clock } from '#agentplane/clock';
import type { AppConfig } from '#agentplane/config';
import { encodeCursor } from '#agentplane/db';
import { CommonErrorCode, DomainError } from '#agentplane/errors';
import type { ReplyRecordRepository } from './reply-record.repository.js';
import { RecordsService } from './records.service.js';

const NOW = new Date('2026-12-04T12:00:00.000Z');
const ORG = asOrgId('org_1');
const DAY = 24 * 60 * 60 * 1000;

function setUp(pageSize = 0, pruned: number[] = []) {
  const repository = {
    listPage: jest.fn(async () => ({
      data: Array.from({ length: pageSize }, (_, n) => ({ id: `rec_${n}` })),
      hasMore: false,
      nextCursor: null,
    })),
    usage: jest.fn(async () => ({ groups: [], totals: {} })),
    pruneOlderThan: jest.fn(async () => pruned.shift() ?? 0),
  };
  const agents = {
    get: jest.fn(async () => {
      throw DomainError.notFound('Agent');
    }),
  };
  const clock = { now: () => NOW } as Clock;
  const service = new RecordsService(repository as unknown as ReplyRecordRepository, agents as unknown as AgentsService, clock, {
    recordRetentionDays: 30,
  } as AppConfig);
  return { service, repository, agents };
}

async function fieldErrorOf(promise: Promise<unknown>) {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(DomainError);
    expect((error as DomainError).code).toBe(CommonErrorCode.ValidationFailed);
    return (error as DomainError).errors;
  }
  throw new Error('expected a validation error');
}

describe('RecordsService.usage', () => {
  it('covers the day before now by default, and the day before `to` when only `to` is given', async () => {
    const { service, repository } = setUp();
    expect(await service.usage(ORG, { groupBy: 'agent' })).toMatchObject({ from: new Date(NOW.getTime() - DAY), to: NOW });
    const to = new Date('2026-11-01T00:00:00Z');
    await service.usage(ORG, { to, groupBy: 'day' });
    expect(repository.usage).toHaveBeenLastCalledWith(ORG, new Date('2026-10-31T00:00:00Z'), to, 'day');
  });

  it.each([
    ['from equal to to', { from: NOW, to: NOW }, 'must be before to'],
    ['from after to', { from: new Date(NOW.getTime() + 1), to: NOW }, 'must be before to'],
    ['from after now, to left out', { from: new Date(NOW.getTime() + DAY) }, 'must be before to'],
    ['a window over 92 days', { from: new Date(NOW.getTime() - 92 * DAY - 1), to: NOW }, 'must be at most 92 days before to'],
  ])('refuses %s, naming from', async (_, window, message) => {
    const { service, repository } = setUp();
    expect(await fieldErrorOf(service.usage(ORG, { ...window, groupBy: 'agent' }))).toEqual([
      { path: 'from', code: 'invalid_window', message },
    ]);
    expect(repository.usage).not.toHaveBeenCalled();
  });

  it('takes a window of exactly 92 days', async () => {
    const { service } = setUp();
    await expect(service.usage(ORG, { from: new Date(NOW.getTime() - 92 * DAY), to: NOW, groupBy: 'day' })).resolves.toBeDefined();
  });
});

describe('RecordsService.list', () => {
  it('answers 404 for an id that names neither an agent nor any record of the organization', async () => {
    const { service, agents } = setUp(0);
    await expect(service.list(ORG, 'agt_gone', 20)).rejects.toMatchObject({ code: CommonErrorCode.NotFound });
    expect(agents.get).toHaveBeenCalledWith(ORG, 'agt_gone');
  });

  it('lists the records of an agent deleted since, and does not look the agent up when there are records', async () => {
    const { service, agents } = setUp(2);
    expect((await service.list(ORG, 'agt_gone', 20)).data).toHaveLength(2);
    expect(agents.get).not.toHaveBeenCalled();
  });

  it('answers an empty page past the last one, without looking the agent up', async () => {
    const { service, agents } = setUp(0);
    const cursor = encodeCursor({ createdAt: NOW, id: 'rec_1' });
    expect((await service.list(ORG, 'agt_gone', 20, cursor)).data).toEqual([]);
    expect(agents.get).not.toHaveBeenCalled();
  });
});

describe('RecordsService.prune', () => {
  it('deletes what started before the retention, a batch at a time until a batch comes back short', async () => {
    const { service, repository } = setUp(0, [1_000, 1_000, 7]);
    expect(await service.prune()).toBe(2_007);
    expect(repository.pruneOlderThan).toHaveBeenCalledTimes(3);
    expect(repository.pruneOlderThan).toHaveBeenCalledWith(new Date(NOW.getTime() - 30 * DAY), 1_000);
  });
});

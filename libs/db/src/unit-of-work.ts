import { Injectable } from '@nestjs/common';
import type { Prisma } from './generated/prisma/client.js';
import { PrismaService } from './prisma.service.js';

/**
 * A transaction in progress. Services hold it without looking inside and hand it to repository
 * methods, which run their queries on it.
 */
export type Transaction = Prisma.TransactionClient;

export interface TransactionOptions {
  /** How long to wait for a connection before giving up. */
  readonly maxWaitMs?: number;
  /** How long the whole transaction may take. */
  readonly timeoutMs?: number;
}

// A request may queue behind others for the same row (that is the point of the locks), so allow
// more than Prisma's 2 s / 5 s defaults before calling it a failure.
const DEFAULTS = { maxWaitMs: 10_000, timeoutMs: 30_000 };

/**
 * The unit of work a service owns: everything `work` does through the repositories commits
 * together or not at all. A throw inside rolls back.
 */
@Injectable()
export class UnitOfWork {
  private committed = 0;

  constructor(private readonly prisma: PrismaService) {}

  async transaction<T>(work: (tx: Transaction) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
    const { maxWaitMs, timeoutMs } = { ...DEFAULTS, ...options };
    try {
      return await this.prisma.$transaction(work, { maxWait: maxWaitMs, timeout: timeoutMs });
    } finally {
      // Counted whether or not it committed: a failure after COMMIT is sent cannot tell which.
      this.committed++;
    }
  }

  /**
   * How many transactions this process has ended. A cache notes it before a read and serves the
   * result only while it is unchanged, so a write made here is seen by the very next read.
   */
  get writeEpoch(): number {
    return this.committed;
  }
}

import type { OnModuleDestroy } from '@nestjs/common';
import { PrismaClient } from './generated/prisma/client.js';

/**
 * The Prisma client of the process. Only repositories inject it: every Prisma call and every
 * transaction lives in a repository.
 */
export class PrismaService extends PrismaClient implements OnModuleDestroy {
  async onModuleDestroy(): Promise<void> {
    await this.$disconnect();
  }
}

import { Injectable } from '@nestjs/common';
import { PrismaService } from './prisma.service.js';

const PING_TIMEOUT_MS = 2_000;

@Injectable()
export class DatabaseHealth {
  constructor(private readonly prisma: PrismaService) {}

  /** True when `SELECT 1` answers within two seconds. */
  async isHealthy(): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), PING_TIMEOUT_MS);
    });
    try {
      const ping = this.prisma.$queryRaw`SELECT 1`.then(
        () => true,
        () => false,
      );
      return await Promise.race([ping, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}

import { Injectable } from '@nestjs/common';
import { DatabaseConnection } from './database-connection.js';

const PING_TIMEOUT_MS = 2_000;

@Injectable()
export class DatabaseHealth {
  constructor(private readonly connection: DatabaseConnection) {}

  /**
   * True when `SELECT 1` answers within two seconds, on a connection of its own: a pool that
   * requests keep busy says nothing about the database.
   */
  async isHealthy(): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), PING_TIMEOUT_MS);
    });
    try {
      const ping = this.connection.ping().then(
        () => true,
        () => false,
      );
      return await Promise.race([ping, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}

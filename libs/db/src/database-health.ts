import { Injectable } from '@nestjs/common';
import { DatabaseConnection } from './database-connection.js';

const PING_TIMEOUT_MS = 2_000;

@Injectable()
export class DatabaseHealth {
  /** The ping in flight: checks that arrive while it runs share its answer rather than queue behind it. */
  private inFlight: Promise<boolean> | undefined;

  constructor(private readonly connection: DatabaseConnection) {}

  /**
   * True when `SELECT 1` answers within two seconds, on a connection of its own: a pool that
   * requests keep busy says nothing about the database. A check made while a ping is in flight
   * takes that ping's answer: under load the health route costs one query at a time, not one each.
   */
  isHealthy(): Promise<boolean> {
    this.inFlight ??= this.ping().finally(() => (this.inFlight = undefined));
    return this.inFlight;
  }

  private async ping(): Promise<boolean> {
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

import { jest } from '@jest/globals';
import type { DatabaseConnection } from './database-connection.js';
import { DatabaseHealth } from './database-health.js';

function connection(answers: (() => Promise<void>)[]) {
  let pings = 0;
  const fake = {
    ping: () => {
      pings++;
      return answers.shift()!();
    },
  };
  return { health: new DatabaseHealth(fake as unknown as DatabaseConnection), pings: () => pings };
}

describe('DatabaseHealth', () => {
  it('answers checks made while a ping is in flight with that ping, and pings again afterwards', async () => {
    let release!: () => void;
    const db = connection([() => new Promise<void>((resolve) => (release = resolve)), () => Promise.reject(new Error('down'))]);
    const checks = Array.from({ length: 5 }, () => db.health.isHealthy());
    expect(db.pings()).toBe(1);
    release();
    expect(await Promise.all(checks)).toEqual([true, true, true, true, true]);
    expect(await db.health.isHealthy()).toBe(false);
    expect(db.pings()).toBe(2);
  });

  it('answers false when the ping does not answer within two seconds', async () => {
    jest.useFakeTimers();
    try {
      const db = connection([() => new Promise<void>(() => undefined)]);
      const check = db.health.isHealthy();
      await jest.advanceTimersByTimeAsync(2_000);
      expect(await check).toBe(false);
    } finally {
      jest.useRealTimers();
    }
  });
});

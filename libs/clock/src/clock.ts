import { setTimeout as delay } from 'node:timers/promises';
import { Injectable } from '@nestjs/common';

/** The wall clock and waiting, injectable so services stay pure and tests can fix the time. */
@Injectable()
export class Clock {
  now(): Date {
    return new Date();
  }

  /** Milliseconds on a clock that never jumps (for durations, not dates). */
  monotonicMs(): number {
    return performance.now();
  }

  sleep(ms: number): Promise<void> {
    return delay(ms);
  }
}

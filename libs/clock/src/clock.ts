import { setTimeout as delay } from 'node:timers/promises';
import { Injectable } from '@nestjs/common';

/** The wall clock and waiting, injectable so services stay pure and tests can fix the time. */
@Injectable()
export class Clock {
  now(): Date {
    return new Date();
  }

  sleep(ms: number): Promise<void> {
    return delay(ms);
  }
}

import { Injectable } from '@nestjs/common';

/** The wall clock, injectable so services stay pure and tests can fix the time. */
@Injectable()
export class Clock {
  now(): Date {
    return new Date();
  }
}

import { sleepUntil, type Clock } from '@application/ports/clock';

export class SystemClock implements Clock {
  now(): Date {
    return new Date();
  }

  /** Sleeps (real timers) until the wall clock reaches `instant`. */
  waitUntil(instant: Date): Promise<void> {
    return sleepUntil(this, instant);
  }
}

/** A clock tests move by hand (expiry, grace windows) instead of sleeping. */
export class ManualClock implements Clock {
  constructor(private current: Date = new Date()) {}

  now(): Date {
    return new Date(this.current.getTime());
  }

  /** Asked to wait, it moves itself to `instant` (never back) instead of sleeping: no test waits on it for real. */
  async waitUntil(instant: Date): Promise<void> {
    if (instant.getTime() > this.current.getTime()) this.current = new Date(instant.getTime());
  }

  advance(seconds: number): void {
    this.current = new Date(this.current.getTime() + seconds * 1000);
  }

  set(date: Date): void {
    this.current = new Date(date.getTime());
  }
}

/** Exponential backoff with jitter, so that many instances do not reconnect in step. */
export class Backoff {
  private failures = 0;

  constructor(
    private readonly minMs: number,
    private readonly maxMs: number,
  ) {}

  /** The wait after one more failure: min, 2·min, 4·min ... up to max, each ±20 %. */
  next(): number {
    const base = Math.min(this.maxMs, this.minMs * 2 ** this.failures);
    this.failures += 1;
    return Math.round(base * (0.8 + Math.random() * 0.4));
  }

  reset(): void {
    this.failures = 0;
  }

  get failing(): boolean {
    return this.failures > 0;
  }
}

/** A wait that `cancel()` ends early (stop, or a poke while idle); timers never keep the process alive. */
export class Sleeper {
  private wake: (() => void) | null = null;

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      timer.unref();
      const self = this;
      function done(): void {
        clearTimeout(timer);
        if (self.wake === done) self.wake = null;
        resolve();
      }
      this.wake = done;
    });
  }

  cancel(): void {
    this.wake?.();
  }
}

/**
 * A wait that `cancel()` ends early (a lost connection); its timer never keeps the process alive. `close()` ends the
 * current wait and every later one at once: a close that came while nothing slept (a connect attempt under way) is
 * not missed by the wait that follows the attempt (until a review of 2026-12-08 that wait was a full backoff).
 */
export class Sleeper {
  private wake: (() => void) | null = null;
  private closed = false;

  sleep(ms: number): Promise<void> {
    if (this.closed) return Promise.resolve();
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

  close(): void {
    this.closed = true;
    this.cancel();
  }
}

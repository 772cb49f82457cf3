/** A wait that `cancel()` ends early (close, or a lost connection); its timer never keeps the process alive. */
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

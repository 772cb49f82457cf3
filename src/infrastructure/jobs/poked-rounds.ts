/**
 * The scheduling of a background worker, as in EmailOutboxSender: a round runs when poked (after a commit that
 * gave it work) or every `pollIntervalMs` (retries, work from other instances); a poke during a round runs one
 * more right after it; a round that reports a full batch is followed by another at once. Rounds never overlap.
 */
export class PokedRounds {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;

  /** `round` resolves to true when there may be more to do now (it took a full batch). */
  constructor(
    private readonly round: () => Promise<boolean>,
    private readonly pollIntervalMs: number,
  ) {}

  start(): void {
    if (this.timer || this.stopped) return;
    this.timer = setInterval(() => this.poke(), this.pollIntervalMs);
    this.timer.unref();
    this.poke();
  }

  poke(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.rounds().finally(() => {
      this.running = null;
      if (this.again) {
        this.again = false;
        this.poke();
      }
    });
  }

  /** Runs rounds until nothing due is left (tests, the in-memory unit of work). */
  async drain(): Promise<void> {
    this.poke();
    while (this.running) await this.running;
  }

  /** No new rounds; waits for the one under way. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  private async rounds(): Promise<void> {
    while (!this.stopped && (await this.round()));
  }
}

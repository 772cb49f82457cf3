import type { Logger } from '@application/ports/logger';

/**
 * What a round asks for next: `more` another round at once (it took a full batch), `idle` a round at the next
 * poke or poll, `backoff` none for `ms` (a dependency is away), whatever is poked meanwhile.
 */
export type RoundResult = 'more' | 'idle' | { backoffMs: number };

export interface BackgroundWorkerOptions {
  /** Shown in the log when a round throws. */
  name: string;
  /** After start(), an idle worker runs a round this often without a poke (retries, other instances' work). */
  pollIntervalMs: number;
  /**
   * A poke runs its round after this long plus up to as much again at random (0: at once). drain() never waits.
   * Delayed pokes coalesce: while one is pending, later ones add nothing (its round sees their work too).
   */
  pokeDelayMs?: number;
}

/**
 * The scheduling every background worker shares (outbox relay, email sender, account-request worker). Rounds
 * never overlap: a poke during a round runs one more right after it; a round that reports `more` is followed by
 * another at once. Once started, an idle worker polls; a backing-off one waits out its delay, pokes or not,
 * unless woken (wake(): what it waited for is back).
 * Timers never keep the process alive. A round should handle its own errors: one that throws is logged and
 * counts as `idle`. A round is handed a signal that stop() aborts: one that works through a batch checks it between
 * items and hands back what it has not started, so that stop() waits for the item in hand only.
 */
export class BackgroundWorker {
  private running: Promise<void> | null = null;
  private again = false;
  private polling = false;
  private stopped = false;
  private backingOff = false;
  /** wake() was called during the round under way: a backoff that round asks for is void (see rounds). */
  private woken = false;
  private timer: NodeJS.Timeout | null = null;
  /** A delayed poke waiting to run (at most one). */
  private pokeTimer: NodeJS.Timeout | null = null;
  private readonly stopping = new AbortController();

  constructor(
    private readonly round: (stopping: AbortSignal) => Promise<RoundResult>,
    private readonly options: BackgroundWorkerOptions,
    private readonly logger: Logger,
  ) {}

  /** Runs a round now and keeps polling. */
  start(): void {
    if (this.polling || this.stopped) return;
    this.polling = true;
    this.kick();
  }

  /**
   * There is work (something was just committed): a round soon, or right after the current one. `delayMs` (exactly
   * that long) overrides the worker's `pokeDelayMs` (that long plus up to as much again at random); 0 is at once.
   * A delayed poke while another is pending adds nothing: the pending one's round starts after both commits and
   * sees both. A round started or queued meanwhile (another poke, a poll, drain()) takes the pending poke's place.
   */
  poke(delayMs?: number): void {
    if (this.stopped) return;
    const delay = delayMs ?? (this.options.pokeDelayMs ?? 0) * (1 + Math.random());
    if (delay <= 0) return this.pokeNow();
    if (this.pokeTimer) return;
    this.pokeTimer = setTimeout(() => {
      this.pokeTimer = null;
      this.pokeNow();
    }, delay);
    this.pokeTimer.unref();
  }

  /**
   * What the worker was waiting for is back (the broker reconnected): a round now, or right after the current one,
   * even while backing off. A poke cannot do this: a backoff stands whatever is poked meanwhile, so that commits do
   * not hammer a dependency that is away. Until stop 52 nothing ended the relay's backoff when the broker came back,
   * and the first events after an outage (a logout's auth.session.revoked among them) waited out the rest of a wait
   * of up to 30 s while /health/ready already said broker: up (a review of stop 51 measured 13 s and 23 s).
   */
  wake(): void {
    if (this.stopped) return;
    this.woken = true;
    this.kick();
  }

  /** Runs rounds now (no poke delay, no backoff) until none reports `more`; resolves when they are done. */
  async drain(): Promise<void> {
    this.kick();
    // A round under way when drained is followed by one more (see kick): wait for that one too.
    while (this.running) await this.running;
  }

  /** No new rounds, and the one under way is told to stop (its signal); resolves once it has finished. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.stopping.abort();
    this.clearTimer();
    this.clearPokeTimer();
    await this.running;
  }

  private pokeNow(): void {
    if (!this.backingOff) this.kick();
  }

  private kick(): void {
    if (this.stopped) return;
    // The round about to start (or queued behind the one under way) begins after every pending poke's commit.
    this.clearPokeTimer();
    if (this.running) {
      this.again = true;
      return;
    }
    this.clearTimer();
    this.backingOff = false;
    this.running = this.rounds().then((last) => {
      this.running = null;
      this.schedule(last);
    });
  }

  private async rounds(): Promise<RoundResult> {
    let result: RoundResult = 'idle';
    while (!this.stopped) {
      this.again = false;
      this.woken = false;
      result = await this.safeRound();
      // A wake during the round came after what the round saw (the broker still away): its backoff is out of date.
      if (result !== 'more' && !(result === 'idle' && this.again) && !(typeof result === 'object' && this.woken)) break;
    }
    return result;
  }

  private async safeRound(): Promise<RoundResult> {
    try {
      return await this.round(this.stopping.signal);
    } catch (error) {
      // The error itself (the logger's serializer keeps its stack and cause, drops SQL and parameters): until stop 65
      // only its message, so a bug in a round left operators no stack (a review of exception handling).
      this.logger.error({ worker: this.options.name, err: error }, 'background worker: round failed');
      return 'idle';
    }
  }

  private schedule(last: RoundResult): void {
    if (this.stopped || !this.polling) return;
    this.backingOff = typeof last === 'object';
    this.setTimer(typeof last === 'object' ? last.backoffMs : this.options.pollIntervalMs);
  }

  private setTimer(ms: number): void {
    this.clearTimer();
    this.timer = setTimeout(() => {
      this.timer = null;
      this.backingOff = false;
      this.kick();
    }, ms);
    this.timer.unref();
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private clearPokeTimer(): void {
    if (this.pokeTimer) clearTimeout(this.pokeTimer);
    this.pokeTimer = null;
  }
}

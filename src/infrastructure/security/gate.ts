import { Errors } from '@application/shared/errors';

/*
 * A bounded wait for scarce CPU work, shared by the argon2 hasher (ARGON2_CONCURRENCY slots) and the zxcvbn strength
 * estimator (its one worker thread). Born in argon2-password-hasher.ts, which still re-exports these names; the
 * defaults are the hasher's.
 */

/** How long a refused caller is told to wait (Retry-After): a burst passes in seconds; an attack does not listen. */
export const HASHING_BUSY_RETRY_AFTER_SECONDS = 2;

/**
 * How long a hash may wait for a slot (ARGON2_QUEUE_TIMEOUT): 5 s. The benchmark's 8 hash-bound connections on
 * 2 slots leave at most 6 waiting, 3 hashes (about 150 ms at 40-50 ms each) ahead of the last: a thirtieth of it.
 * Under the shutdown grace (10 s), so that a SIGTERM's queue is answered before the server gives up on it.
 */
export const DEFAULT_QUEUE_TIMEOUT_MS = 5_000;

/**
 * Waiting places per slot: 256. A memory bound (each waiter holds a request and its password) far above any
 * honest load; under a storm the deadline refuses first, this refuses at once what could only wait for it.
 */
export const QUEUE_LENGTH_PER_SLOT = 256;

/** Why a job was not run: waited too long, found the queue full, or its caller went away before its turn. */
export type GateRefusal = 'queue_timeout' | 'queue_full' | 'client_gone';

export const GATE_REFUSALS: readonly GateRefusal[] = ['queue_timeout', 'queue_full', 'client_gone'];

export interface GateBounds {
  /** A waiter not admitted within this is refused, at once (its own timer), and its job never runs. */
  maxWaitMs: number;
  /** A caller that finds this many waiting is refused at once, its job not run. */
  maxWaiting: number;
  /** The error a refused caller gets (a caller that went away gets it too: it ends as a refusal does). */
  refusal: () => Error;
}

interface Waiter {
  admit(): void;
}

/**
 * At most `limit` jobs (hashes, strength estimates) run at once; the rest wait their turn in order. argon2 runs
 * on libuv's thread pool (4 threads by default): left alone, four 19 MiB hashes run at once on a 2-core machine, no faster than two,
 * and every other pool job (WebCrypto's JWT signing and verifying, DNS lookups) queues behind them.
 *
 * The wait is bounded in time and length (an outside review, 2026-11-30: 150 wrong-password logins from many
 * addresses, which per-address limits do not stop, made a real user's login take 5 s; clients that had gone still
 * got their hash; a SIGTERM left a long queue unanswered past the shutdown grace). A refusal leaves the queue at
 * once and holds no slot: the slot of a finished job passes to the oldest waiter still there.
 *
 * A job may come with its caller's AbortSignal (the HTTP client gone before its answer): aborted before the job
 * starts, it leaves the queue at that moment and is refused like the others, never run (an outside review: logins
 * fired and dropped at once filled the queue with hashes nobody waited for); a job already running finishes.
 */
export class Gate {
  private running = 0;
  /** In arrival order (a Set iterates in insertion order), and a waiter whose deadline passes leaves from anywhere. */
  private readonly waiting = new Set<Waiter>();
  private readonly bounds: GateBounds;
  /** Jobs refused so far, by reason (read by the metrics at scrape time). */
  readonly refused: Record<GateRefusal, number> = { queue_timeout: 0, queue_full: 0, client_gone: 0 };

  /** Unbounded `limit` (Infinity): nobody ever waits. Bounds default to the hasher's (5 s, 256 per slot, 503). */
  constructor(
    private readonly limit: number,
    bounds: Partial<GateBounds> = {},
  ) {
    this.bounds = {
      maxWaitMs: bounds.maxWaitMs ?? DEFAULT_QUEUE_TIMEOUT_MS,
      maxWaiting: bounds.maxWaiting ?? limit * QUEUE_LENGTH_PER_SLOT,
      refusal: bounds.refusal ?? (() => Errors.hashingBusy(HASHING_BUSY_RETRY_AFTER_SECONDS)),
    };
  }

  /** Jobs waiting for a slot (for tests and diagnostics). */
  get queued(): number {
    return this.waiting.size;
  }

  /** Runs `job` in its turn; refused, without running it, if `signal` is aborted before then. */
  async run<T>(job: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (signal?.aborted) throw this.refuse('client_gone');
    // A free slot means nobody waits: a slot only stays taken while someone does (release passes it on).
    if (this.running < this.limit) this.running += 1;
    else await this.admission(signal);
    try {
      return await job();
    } finally {
      const next = this.waiting.values().next();
      if (next.done) this.running -= 1;
      else {
        this.waiting.delete(next.value);
        next.value.admit(); // the slot passes straight on
      }
    }
  }

  /** Resolves holding a slot (handed over by a finishing job), or rejects holding none. */
  private admission(signal: AbortSignal | undefined): Promise<void> {
    if (this.waiting.size >= this.bounds.maxWaiting) return Promise.reject(this.refuse('queue_full'));
    return new Promise<void>((resolve, reject) => {
      const settle = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', gone);
      };
      const waiter: Waiter = {
        admit: () => {
          settle();
          resolve();
        },
      };
      const leave = (reason: GateRefusal) => {
        // Admitted meanwhile (then the timer was cleared and the listener removed, but be sure): nothing to refuse.
        if (!this.waiting.delete(waiter)) return;
        settle();
        reject(this.refuse(reason));
      };
      const gone = () => leave('client_gone');
      const timer = setTimeout(() => leave('queue_timeout'), this.bounds.maxWaitMs);
      signal?.addEventListener('abort', gone, { once: true });
      this.waiting.add(waiter);
    });
  }

  private refuse(reason: GateRefusal): Error {
    this.refused[reason] += 1;
    return this.bounds.refusal();
  }
}

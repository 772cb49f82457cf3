import { Worker } from 'node:worker_threads';
import type { PasswordStrengthEstimator, StrengthEstimate } from '@application/ports/password-strength';
import { Gate } from '../gate';
import { ZXCVBN_SCORING } from './zxcvbn-scoring';
import { ZXCVBN_WORKER_SOURCE, type ZxcvbnWorkerData, type ZxcvbnWorkerReply, type ZxcvbnWorkerRequest } from './zxcvbn-worker-source';

/** The worker's V8 heap bounds (README, Memory). */
export const ZXCVBN_WORKER_LIMITS = { maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: 64 } as const;

/**
 * Estimates handed to the worker at once: 2. One runs while the next waits in the worker's port, so the worker
 * never idles while a reply and the next request cross this thread's (busy) event loop; more would only wait in
 * that port, out of the gate's reach, and add nothing (one thread scores one password at a time).
 */
export const ESTIMATES_IN_FLIGHT = 2;

/**
 * How long an estimate may wait for its turn (ZXCVBN_QUEUE_TIMEOUT): 2 s, 75-330 of the slowest estimates (6-27 ms)
 * and ten times the dictionary load (200 ms) that the first ones after a restarted worker wait for (the first
 * worker loads in warmUp(), before the service is ready). Honest registrations never come near.
 */
export const DEFAULT_ESTIMATE_QUEUE_TIMEOUT_MS = 2_000;

/**
 * Estimates that may wait: 256. A memory bound (each waiter holds a request and its password, at most 128
 * characters) above what the deadline lets through; under a flood the deadline refuses first.
 */
export const ESTIMATE_QUEUE_LENGTH = 256;

/**
 * How long warmUp() waits for the worker's first answer: 10 s, fifty times the dictionary load (200 ms) and well
 * above a busy start's seconds.
 */
export const DEFAULT_WARM_UP_DEADLINE_MS = 10_000;

/** What warmUp() saw: the worker answered, or why it was given up (the caller logs it). */
export type WarmUpOutcome = { ok: true } | { ok: false; reason: string };

export interface ZxcvbnWorkerOptions {
  /** The longest wait for a turn (ZXCVBN_QUEUE_TIMEOUT, default DEFAULT_ESTIMATE_QUEUE_TIMEOUT_MS). */
  queueTimeoutMs?: number;
  /** Estimates that may wait (default ESTIMATE_QUEUE_LENGTH; smaller in tests). */
  queueLength?: number;
  /** The longest wait for the warm-up's answer (default DEFAULT_WARM_UP_DEADLINE_MS; shorter in tests). */
  warmUpDeadlineMs?: number;
}

interface Pending {
  resolve(estimate: StrengthEstimate): void;
  reject(error: Error): void;
}

/**
 * zxcvbn in one worker thread, so a 6-27 ms estimate (and the 200 ms dictionary load) never stalls the event
 * loop that serves every other request. Same rules as ZxcvbnStrengthEstimator (ZXCVBN_SCORING).
 *
 * The worker starts on warmUp() (the service's start) or else on the first estimate (a CLI command); requests go
 * through its port and replies are matched by id. It is unref'd while idle, so it never keeps the process alive,
 * and ref'd while an estimate is pending (an unref'd worker's reply would not keep a short-lived process, such as a
 * CLI command, waiting for it). If it dies, every estimate it holds rejects and the next call starts a new one.
 * After close(), estimates reject.
 *
 * The worker holds at most ESTIMATES_IN_FLIGHT estimates; the rest wait in a Gate, the hasher's, bounded the same
 * way (a security review: a flood of long weak passwords, from many addresses so per-address limits do not stop it,
 * queued thousands of 6-27 ms estimates in the worker's port and every registration waited behind them without
 * end). An estimate that waits longer than the deadline, or finds the queue full, is refused without being scored:
 * Errors.hashingBusy, 503 SERVICE_UNAVAILABLE with Retry-After, as a saturated hasher answers.
 */
export class ZxcvbnWorkerStrengthEstimator implements PasswordStrengthEstimator {
  private worker: Worker | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private closed = false;
  /** Public: its `refused` counts are the metrics' auth_password_strength_refusals_total, as the hasher's are. */
  readonly gate: Gate;
  private readonly warmUpDeadlineMs: number;

  constructor(options: ZxcvbnWorkerOptions = {}) {
    this.warmUpDeadlineMs = options.warmUpDeadlineMs ?? DEFAULT_WARM_UP_DEADLINE_MS;
    this.gate = new Gate(ESTIMATES_IN_FLIGHT, {
      maxWaitMs: options.queueTimeoutMs ?? DEFAULT_ESTIMATE_QUEUE_TIMEOUT_MS,
      maxWaiting: options.queueLength ?? ESTIMATE_QUEUE_LENGTH,
    });
  }

  estimate(password: string, userInputs: string[]): Promise<StrengthEstimate> {
    if (this.closed) return Promise.reject(new Error('password strength estimator is closed'));
    return this.gate.run(() => this.send(password, userInputs));
  }

  /**
   * Starts the worker and scores one password now (the service's start, before it reports ready), so that the
   * dictionary load is not charged to the first requests: until stop 52 the worker started with the first estimate,
   * and 8 registrations sent at once right after start-up got 2 answers and 6 503s, the two in the worker holding
   * both places while it loaded and the rest waiting out the queue deadline (a probe of stop 51). Through the gate,
   * as any estimate. Resolves either way, within the deadline, with what happened for the caller to log: a worker
   * that fails or does not answer in time is terminated (its estimate rejects) and the next estimate starts a new
   * one. Until a review of stop 52 there was no deadline, so a worker that started but never answered held the
   * service's start for good (it never listened), and a failure was swallowed without a log line.
   */
  async warmUp(): Promise<WarmUpOutcome> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<WarmUpOutcome>((resolve) => {
      timer = setTimeout(() => resolve({ ok: false, reason: `no answer within ${this.warmUpDeadlineMs} ms` }), this.warmUpDeadlineMs);
      timer.unref();
    });
    const answered = this.estimate('warm-up', []).then(
      (): WarmUpOutcome => ({ ok: true }),
      (error: unknown): WarmUpOutcome => ({ ok: false, reason: error instanceof Error ? error.message : String(error) }),
    );
    const outcome = await Promise.race([answered, late]);
    clearTimeout(timer);
    if (!outcome.ok) await this.discardWorker(new Error(`password strength warm-up failed: ${outcome.reason}`));
    return outcome;
  }

  /** Terminates the worker; estimates in it or waiting for it reject, and so does every later one. */
  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    this.worker = null;
    // The estimates in the worker reject here; each frees its slot to a waiter, which rejects in send().
    this.failPending(new Error('password strength estimator closed before the estimate finished'));
    if (worker) await worker.terminate();
  }

  /** Terminates the current worker, if any, failing what it holds; the next estimate starts a new one. */
  private async discardWorker(error: Error): Promise<void> {
    const worker = this.worker;
    if (worker === null) return;
    this.worker = null;
    this.failPending(error);
    await worker.terminate();
  }

  /** Hands one estimate to the worker, in its turn. */
  private send(password: string, userInputs: string[]): Promise<StrengthEstimate> {
    // Closed while this one waited its turn.
    if (this.closed) return Promise.reject(new Error('password strength estimator closed before the estimate finished'));
    const worker = this.running();
    const id = ++this.nextId;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      if (this.pending.size === 1) worker.ref();
      const request: ZxcvbnWorkerRequest = { id, password, userInputs };
      worker.postMessage(request);
    });
  }

  /** The worker thread; a seam for tests that need to kill it. */
  protected spawn(): Worker {
    const workerData: ZxcvbnWorkerData = {
      modules: {
        core: require.resolve('@zxcvbn-ts/core'),
        common: require.resolve('@zxcvbn-ts/language-common'),
        english: require.resolve('@zxcvbn-ts/language-en'),
      },
      scoring: ZXCVBN_SCORING,
    };
    // A 4 MB young generation: the estimates allocate little that lives, and V8's default young generation for a
    // worker (tens of MB, kept once touched) was about 40 MB of the process's RSS for no speed (200 estimates:
    // 1.12 s vs 1.09 s, RSS +108 MB vs +69 MB over the process without the worker; /tmp script, 2026-11-29).
    // A 64 MB old generation: the dictionaries' live set is 24-32 MB (the worker runs out of memory at 24 MB, not
    // at 32), and without a cap V8 let the heap grow to ~100 MB of garbage before collecting it (400 estimates:
    // +96-101 MB of RSS over the process without the worker, +63 MB with the cap, 2.4 s vs 2.6 s; 2026-11-30).
    return new Worker(ZXCVBN_WORKER_SOURCE, { eval: true, workerData, name: 'zxcvbn', resourceLimits: ZXCVBN_WORKER_LIMITS });
  }

  private running(): Worker {
    if (this.worker) return this.worker;
    const worker = this.spawn();
    worker.on('message', (reply: ZxcvbnWorkerReply) => this.settle(reply));
    // An uncaught error is followed by 'exit'; listening keeps Node from rethrowing it in this thread.
    worker.on('error', (error) => this.died(worker, error));
    worker.on('exit', (code) => this.died(worker, new Error(`password strength worker exited with code ${code}`)));
    this.worker = worker;
    return worker;
  }

  private settle(reply: ZxcvbnWorkerReply): void {
    const pending = this.pending.get(reply.id);
    if (!pending) return;
    this.pending.delete(reply.id);
    // Idle: the worker must not keep the process alive. (A new Worker starts ref'd, with its first request.)
    if (this.pending.size === 0) this.worker?.unref();
    if ('error' in reply) pending.reject(new Error(`password strength estimate failed: ${reply.error}`));
    else pending.resolve({ score: reply.score, common: reply.common });
  }

  private died(worker: Worker, error: Error): void {
    // A worker already replaced or closed has nothing pending of its own.
    if (this.worker !== worker) return;
    this.worker = null;
    this.failPending(error);
  }

  private failPending(error: Error): void {
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const { reject } of pending) reject(error);
  }
}

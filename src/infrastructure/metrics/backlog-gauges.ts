import { Gauge, type Registry } from 'prom-client';
import type { Clock } from '@application/ports/clock';
import { SystemClock } from '@infrastructure/time/system-clock';

/** What the backlog gauges read: one COUNT query each, at most once per refresh interval. */
export interface BacklogCounts {
  /** Outbox events not yet published to the broker. */
  unsentEvents(): Promise<number>;
  /** Emails still to be sent (due or waiting for a retry) and emails given up on. */
  emails(): Promise<{ queued: number; failed: number }>;
}

/** Reported instead of a count that failed or took longer than the timeout: the scrape itself never fails. */
export const COUNT_UNAVAILABLE = -1;

export interface BacklogGaugeOptions {
  /** How long a scrape waits for a count before its gauge reports -1 (the query itself is left to finish). */
  timeoutMs?: number;
  /** How long a count (or a failure) is reported again before the database is asked anew. */
  refreshMs?: number;
  /** What `refreshMs` is measured on (tests pass a manual clock). */
  clock?: Clock;
}

/**
 * Gauges computed when Prometheus scrapes (no polling in between), but at most once per `refreshMs` per process:
 * /metrics is public unless METRICS_TOKEN is set, and a COUNT over a large outbox costs the database 100 ms or
 * more, so scrapes (however many, however often) must not turn into database load (outside review 2026-11-30:
 * 20 scrapers raised /auth/validate p99 ninefold). Concurrent scrapes share one query; a query that outlasts
 * `timeoutMs` reports -1 and is still the one later scrapes wait for, never a second one beside it. A slow or
 * failing database yields -1 for that gauge, never a failed or hanging scrape.
 */
export function registerBacklogGauges(registry: Registry, counts: BacklogCounts, options: BacklogGaugeOptions = {}): void {
  const timeoutMs = options.timeoutMs ?? 1000;
  const refresh = { ms: options.refreshMs ?? 5000, clock: options.clock ?? new SystemClock() };
  const unsentEvents = cachedCount(() => counts.unsentEvents(), refresh);
  // Both email states come from one query, which the two label values' collect() calls share.
  const emails = cachedCount(() => counts.emails(), refresh);
  const registers = [registry];
  const unavailable = ` ${COUNT_UNAVAILABLE} when the count failed or timed out.`;
  new Gauge({
    name: 'auth_outbox_unsent_events',
    help: `Events in the transactional outbox not yet published to the broker;${unavailable}`,
    registers,
    // A count of the shared database: WORKERS>1 reports it once (the largest answer), not once per worker.
    aggregator: 'max',
    async collect() {
      this.set((await bounded(unsentEvents(), timeoutMs)) ?? COUNT_UNAVAILABLE);
    },
  });
  new Gauge({
    name: 'auth_email_outbox_messages',
    help: `Emails in the outbox by state: queued (to be sent or retried) or failed (given up);${unavailable}`,
    labelNames: ['state'],
    registers,
    aggregator: 'max',
    async collect() {
      const found = await bounded(emails(), timeoutMs);
      this.set({ state: 'queued' }, found?.queued ?? COUNT_UNAVAILABLE);
      this.set({ state: 'failed' }, found?.failed ?? COUNT_UNAVAILABLE);
    },
  });
}

/**
 * A query run at most once per `refresh.ms`: its answer (null when it failed) is kept for that long after it
 * arrived, and while it runs every caller gets the same promise. A query still running after `STUCK_AFTER`
 * refresh intervals is given up on (a lost connection that never errors must not freeze the gauge).
 */
function cachedCount<T>(read: () => Promise<T>, refresh: { ms: number; clock: Clock }): () => Promise<T | null> {
  const STUCK_AFTER = 12;
  let kept: { value: T | null; until: number } | null = null;
  let running: { promise: Promise<T | null>; since: number } | null = null;
  return () => {
    const now = refresh.clock.now().getTime();
    if (kept !== null && now < kept.until) return Promise.resolve(kept.value);
    if (running === null || now - running.since >= STUCK_AFTER * refresh.ms) {
      const attempt: { promise: Promise<T | null>; since: number } = { promise: Promise.resolve(null), since: now };
      attempt.promise = read()
        .catch(() => null)
        .then((value) => {
          if (running === attempt) {
            running = null;
            kept = { value, until: refresh.clock.now().getTime() + refresh.ms };
          }
          return value;
        });
      running = attempt;
    }
    return running.promise;
  };
}

/** The value, or null when it failed or took longer than `ms` (the query itself is left to finish). */
function bounded<T>(promise: Promise<T>, ms: number): Promise<T | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), ms);
    timer.unref();
  });
  return Promise.race([promise, timeout])
    .catch(() => null)
    .finally(() => clearTimeout(timer));
}

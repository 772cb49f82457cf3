import { Gauge, type Registry } from 'prom-client';

/** What the backlog gauges read: one COUNT query each, at scrape time. */
export interface BacklogCounts {
  /** Outbox events not yet published to the broker. */
  unsentEvents(): Promise<number>;
  /** Emails still to be sent (due or waiting for a retry) and emails given up on. */
  emails(): Promise<{ queued: number; failed: number }>;
}

/** Reported instead of a count that failed or took longer than the timeout: the scrape itself never fails. */
export const COUNT_UNAVAILABLE = -1;

/**
 * Gauges computed when Prometheus scrapes (no polling in between). Each count is bounded by `timeoutMs`; a
 * slow or failing database yields -1 for that gauge, never a failed or hanging scrape.
 */
export function registerBacklogGauges(registry: Registry, counts: BacklogCounts, timeoutMs = 1000): void {
  const registers = [registry];
  const unavailable = ` ${COUNT_UNAVAILABLE} when the count failed or timed out.`;
  new Gauge({
    name: 'auth_outbox_unsent_events',
    help: `Events in the transactional outbox not yet published to the broker;${unavailable}`,
    registers,
    // A count of the shared database: WORKERS>1 reports it once (the largest answer), not once per worker.
    aggregator: 'max',
    async collect() {
      this.set((await bounded(counts.unsentEvents(), timeoutMs)) ?? COUNT_UNAVAILABLE);
    },
  });
  // Both states come from one query: concurrent collect() calls of one scrape share it.
  let inFlight: Promise<{ queued: number; failed: number } | null> | null = null;
  const emails = () => {
    inFlight ??= bounded(counts.emails(), timeoutMs).finally(() => (inFlight = null));
    return inFlight;
  };
  new Gauge({
    name: 'auth_email_outbox_messages',
    help: `Emails in the outbox by state: queued (to be sent or retried) or failed (given up);${unavailable}`,
    labelNames: ['state'],
    registers,
    aggregator: 'max',
    async collect() {
      const found = await emails();
      this.set({ state: 'queued' }, found?.queued ?? COUNT_UNAVAILABLE);
      this.set({ state: 'failed' }, found?.failed ?? COUNT_UNAVAILABLE);
    },
  });
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

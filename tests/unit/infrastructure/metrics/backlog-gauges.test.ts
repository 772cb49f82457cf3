import { Registry } from 'prom-client';
import { type BacklogCounts, registerBacklogGauges } from '@infrastructure/metrics/backlog-gauges';
import { ManualClock } from '@infrastructure/time/system-clock';
import { samplesOf, valueOf } from '@tests/support/prometheus';

/**
 * An in-memory backlog that counts the COUNT queries it answers. While `hold()` is in effect every query waits
 * until `release()`, so that scrapes overlap a query in flight.
 */
class CountingBacklog implements BacklogCounts {
  unsent = 3;
  queued = 7;
  failed = 1;
  fail = false;
  readonly calls = { unsentEvents: 0, emails: 0 };
  private gate: Promise<void> | null = null;
  private open: () => void = () => {};

  hold(): void {
    this.gate = new Promise((resolve) => (this.open = resolve));
  }

  release(): void {
    this.gate = null;
    this.open();
  }

  async unsentEvents(): Promise<number> {
    this.calls.unsentEvents += 1;
    await this.gate;
    if (this.fail) throw new Error('db down');
    return this.unsent;
  }

  async emails(): Promise<{ queued: number; failed: number }> {
    this.calls.emails += 1;
    await this.gate;
    if (this.fail) throw new Error('db down');
    return { queued: this.queued, failed: this.failed };
  }
}

function setUp(timeoutMs = 1000) {
  const registry = new Registry();
  const backlog = new CountingBacklog();
  const clock = new ManualClock(new Date('2026-11-30T12:00:00Z'));
  registerBacklogGauges(registry, backlog, { timeoutMs, refreshMs: 5000, clock });
  const scrape = async () => {
    const samples = samplesOf(await registry.metrics());
    return {
      unsent: valueOf(samples, 'auth_outbox_unsent_events'),
      queued: valueOf(samples, 'auth_email_outbox_messages', { state: 'queued' }),
      failed: valueOf(samples, 'auth_email_outbox_messages', { state: 'failed' }),
    };
  };
  return { backlog, clock, scrape };
}

/** Scrape load must not become database load: the counts run at most once per 5 s per process (outside review 2026-11-30). */
describe('backlog gauges', () => {
  it('20 concurrent and 10 sequential scrapes within 5 s cost one COUNT each; after 5 s the next scrape counts anew', async () => {
    const { backlog, clock, scrape } = setUp();
    backlog.hold();
    const concurrent = Array.from({ length: 20 }, () => scrape());
    await new Promise((resolve) => setImmediate(resolve));
    backlog.release();
    for (const result of await Promise.all(concurrent)) expect(result).toEqual({ unsent: 3, queued: 7, failed: 1 });
    for (let i = 0; i < 10; i += 1) {
      clock.advance(0.49);
      expect(await scrape()).toEqual({ unsent: 3, queued: 7, failed: 1 });
    }
    expect(backlog.calls).toEqual({ unsentEvents: 1, emails: 1 });

    Object.assign(backlog, { unsent: 4, queued: 8, failed: 2 });
    clock.advance(0.1); // 5 s after the count arrived
    expect(await scrape()).toEqual({ unsent: 4, queued: 8, failed: 2 });
    expect(backlog.calls).toEqual({ unsentEvents: 2, emails: 2 });
  });

  it('a failed count reports -1, is not retried for 5 s, and is counted again after', async () => {
    const { backlog, clock, scrape } = setUp();
    backlog.fail = true;
    expect(await scrape()).toEqual({ unsent: -1, queued: -1, failed: -1 });
    backlog.fail = false;
    clock.advance(4.9);
    expect(await scrape()).toEqual({ unsent: -1, queued: -1, failed: -1 });
    expect(backlog.calls).toEqual({ unsentEvents: 1, emails: 1 });
    clock.advance(0.1);
    expect(await scrape()).toEqual({ unsent: 3, queued: 7, failed: 1 });
    expect(backlog.calls).toEqual({ unsentEvents: 2, emails: 2 });
  });

  it('a count slower than the timeout reports -1; later scrapes wait for that same query instead of starting another', async () => {
    const { backlog, clock, scrape } = setUp(20);
    backlog.hold();
    expect(await scrape()).toEqual({ unsent: -1, queued: -1, failed: -1 });
    clock.advance(10);
    expect(await scrape()).toEqual({ unsent: -1, queued: -1, failed: -1 });
    expect(backlog.calls).toEqual({ unsentEvents: 1, emails: 1 });
    // One that never answers (a lost connection without an error) is given up on after a minute.
    clock.advance(50);
    expect(await scrape()).toEqual({ unsent: -1, queued: -1, failed: -1 });
    expect(backlog.calls).toEqual({ unsentEvents: 2, emails: 2 });
    backlog.release();
    expect(await scrape()).toEqual({ unsent: 3, queued: 7, failed: 1 });
    expect(backlog.calls).toEqual({ unsentEvents: 2, emails: 2 });
  });
});

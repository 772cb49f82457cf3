import { waitUntil } from '@application/ports/clock';
import { ManualClock, SystemClock } from '@infrastructure/time/system-clock';

describe('waiting on a clock (Clock.waitUntil)', () => {
  it('the system clock sleeps until the wall clock has reached the instant, not a millisecond before', async () => {
    const clock = new SystemClock();
    const instant = new Date(Date.now() + 30);
    await waitUntil(clock, instant);
    expect(Date.now()).toBeGreaterThanOrEqual(instant.getTime());
    // Already past: at once, before any timer could fire (a time bound here would measure the machine's load).
    const first = await Promise.race([
      waitUntil(clock, new Date(Date.now() - 1000)).then(() => 'resolved'),
      new Promise<string>((resolve) => setTimeout(() => resolve('a timer fired first'), 0)),
    ]);
    expect(first).toBe('resolved');
  });

  it('a manual clock moves itself to the instant instead of sleeping, and never back', async () => {
    const clock = new ManualClock(new Date('2026-01-01T00:00:10.700Z'));
    await waitUntil(clock, new Date('2026-01-01T00:00:11.000Z'));
    expect(clock.now()).toEqual(new Date('2026-01-01T00:00:11.000Z'));
    await waitUntil(clock, new Date('2026-01-01T00:00:05.000Z'));
    expect(clock.now()).toEqual(new Date('2026-01-01T00:00:11.000Z'));
  });

  it('a clock without waitUntil is waited on with real timers, a bounded number of them when it does not move', async () => {
    const fixed = new Date('2026-01-01T00:00:10.990Z');
    const started = Date.now();
    await waitUntil({ now: () => fixed }, new Date('2026-01-01T00:00:11.000Z'));
    const waited = Date.now() - started;
    // Three timers of 10 ms at most (the clock never gets there; the caller reads it again and sees that).
    expect(waited).toBeGreaterThanOrEqual(25);
    expect(waited).toBeLessThan(3_000); // bounded (an endless wait would reach jest's timeout), with room for a loaded machine
  });
});

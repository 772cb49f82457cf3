import { Backoff, retryDelayMs } from '@application/shared/retry-delay';

describe('retryDelayMs', () => {
  const policy = { baseMs: 10_000, maxMs: 3_600_000 };

  it('doubles per attempt, caps, and draws each delay from [half, all] of it', () => {
    for (let i = 0; i < 200; i += 1) {
      for (const [attempt, full] of [[1, 10_000], [4, 80_000], [40, 3_600_000], [5000, 3_600_000]] as const) {
        const delay = retryDelayMs(attempt, policy);
        expect(delay).toBeGreaterThanOrEqual(full / 2);
        expect(delay).toBeLessThanOrEqual(full);
        expect(Number.isInteger(delay)).toBe(true);
      }
    }
  });

  it('treats attempt 0 (or less) as the first', () => {
    expect(retryDelayMs(0, policy)).toBeLessThanOrEqual(10_000);
    expect(retryDelayMs(-3, policy)).toBeGreaterThanOrEqual(5_000);
  });

  it('is jittered: instances that failed together do not retry in step', () => {
    expect(new Set(Array.from({ length: 20 }, () => retryDelayMs(3, policy))).size).toBeGreaterThan(1);
  });
});

describe('Backoff', () => {
  it('grows with consecutive failures up to the cap, and starts over after reset()', () => {
    const backoff = new Backoff({ baseMs: 100, maxMs: 1000 });
    expect(backoff.failing).toBe(false);
    const waits = Array.from({ length: 6 }, () => backoff.next());
    expect(backoff.failing).toBe(true);
    waits.forEach((wait, i) => {
      const full = Math.min(1000, 100 * 2 ** i);
      expect(wait).toBeGreaterThanOrEqual(full / 2);
      expect(wait).toBeLessThanOrEqual(full);
    });
    backoff.reset();
    expect(backoff.failing).toBe(false);
    expect(backoff.next()).toBeLessThanOrEqual(100);
  });
});

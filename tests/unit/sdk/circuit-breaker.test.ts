import { CircuitBreaker } from '../../../src/sdk';
import { FakeClock } from './support';

const failure = () => Promise.reject(new Error('unreachable'));
const answer = (error = new Error('4xx')) => Promise.reject(error);

describe('CircuitBreaker', () => {
  const setup = () => {
    const clock = new FakeClock();
    let calls = 0;
    const breaker = new CircuitBreaker({ failureThreshold: 3, resetAfterMs: 1000, now: clock.now });
    const run = (fn: () => Promise<unknown>, counts = true) => breaker.run(() => ((calls += 1), fn()), () => counts);
    return { clock, breaker, run, calls: () => calls };
  };

  it('opens after the threshold of consecutive failures and then refuses without calling', async () => {
    const { breaker, run, calls } = setup();
    for (let i = 0; i < 3; i += 1) await expect(run(failure)).rejects.toThrow('unreachable');
    expect(breaker.state).toBe('open');
    await expect(run(failure)).rejects.toMatchObject({ code: 'AUTH_UNAVAILABLE', status: 503 });
    expect(calls()).toBe(3);
  });

  it('a success in between resets the count', async () => {
    const { breaker, run } = setup();
    await run(failure).catch(() => undefined);
    await run(failure).catch(() => undefined);
    await run(() => Promise.resolve('ok'));
    await run(failure).catch(() => undefined);
    await run(failure).catch(() => undefined);
    expect(breaker.state).toBe('closed');
  });

  it('an answer in between resets the count as a success does: alternating [failure, answer] never opens it', async () => {
    const { breaker, run, calls } = setup();
    for (let i = 0; i < 10; i += 1) {
      await expect(run(failure)).rejects.toThrow('unreachable');
      await expect(run(() => answer(), false)).rejects.toThrow('4xx');
      expect(breaker.state).toBe('closed');
    }
    await run(failure).catch(() => undefined);
    await run(failure).catch(() => undefined);
    await run(() => answer(), false).catch(() => undefined);
    await run(failure).catch(() => undefined);
    await run(failure).catch(() => undefined);
    expect(breaker.state).toBe('closed');
    expect(calls()).toBe(25);
  });

  it('half-open lets exactly one trial through; concurrent callers are refused meanwhile', async () => {
    const { breaker, clock, run, calls } = setup();
    for (let i = 0; i < 3; i += 1) await run(failure).catch(() => undefined);
    clock.advance(1);
    expect(breaker.state).toBe('half-open');
    let release!: (v: string) => void;
    const trial = run(() => new Promise<string>((resolve) => (release = resolve)));
    const others = await Promise.allSettled(Array.from({ length: 10 }, () => run(() => Promise.resolve('x'))));
    expect(others.every((o) => o.status === 'rejected')).toBe(true);
    release('ok');
    await expect(trial).resolves.toBe('ok');
    expect(breaker.state).toBe('closed');
    expect(calls()).toBe(4);
  });

  it('a failed trial opens it again for another period', async () => {
    const { breaker, clock, run } = setup();
    for (let i = 0; i < 3; i += 1) await run(failure).catch(() => undefined);
    clock.advance(1);
    await run(failure).catch(() => undefined);
    expect(breaker.state).toBe('open');
    clock.advance(0.999);
    expect(breaker.state).toBe('open');
    clock.advance(0.001);
    expect(breaker.state).toBe('half-open');
  });

  it('errors that are answers (not failures to reach) neither count nor keep it open', async () => {
    const { breaker, clock, run } = setup();
    for (let i = 0; i < 10; i += 1) await run(() => answer(), false).catch(() => undefined);
    expect(breaker.state).toBe('closed');
    for (let i = 0; i < 3; i += 1) await run(failure).catch(() => undefined);
    clock.advance(1);
    await run(() => answer(), false).catch(() => undefined);
    expect(breaker.state).toBe('closed');
  });
});

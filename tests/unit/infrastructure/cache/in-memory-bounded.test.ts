import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { InMemoryLoginLockout } from '@infrastructure/cache/memory/in-memory-login-lockout';
import { InMemoryRateLimiter } from '@infrastructure/cache/memory/in-memory-rate-limiter';

/**
 * An outside review (2026-12-07): the embedded mode's lockout and rate limiter filed entries under the identifier as
 * typed (after NFKC, which makes U+FDFA eighteen characters: 254 typed units became a 4,572-unit key), a failed
 * login's entry lived a day, and nothing bounded how many there were. About 9 KB of heap per failed login with a new
 * crafted identifier, 100 of them per address every 5 minutes. Entries are now filed under a digest, and the lockout
 * remembers at most a bounded number of identifiers.
 */
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const POLICY = { threshold: 5, baseSeconds: 60, maxSeconds: 86_400 };
/** What Email.canonicalize makes of 6 digits and 248 U+FDFA: 4,470 UTF-16 units, a new string each time. */
const crafted = (n: number) => `${String(n).padStart(6, '0')}${'\uFDFA'.repeat(248)}`.normalize('NFKC');

function retainedBytes(work: () => Promise<void>): Promise<number> {
  gc();
  const before = process.memoryUsage().heapUsed;
  return work().then(() => {
    gc();
    return process.memoryUsage().heapUsed - before;
  });
}

describe('in-memory abuse counters keep memory bounded under crafted identifiers', () => {
  it('the lockout holds well under 1 KB per failed login with a new 4,470-unit identifier (it held about 9 KB)', async () => {
    const lockout = new InMemoryLoginLockout(POLICY);
    const now = new Date();
    const retained = await retainedBytes(async () => {
      for (let i = 0; i < 2000; i += 1) {
        const id = crafted(i);
        await lockout.reserve(id, now);
        await lockout.recordFailure(id, now);
      }
    });
    expect(retained / 2000).toBeLessThan(1024);
    expect(lockout.size).toBe(2000);
    // Still the same identifier to the lockout: the digest is of the whole identifier.
    for (let round = 0; round < 4; round += 1) {
      await lockout.reserve(crafted(7), now);
      await lockout.recordFailure(crafted(7), now);
    }
    await expect(lockout.state(crafted(7), now)).resolves.toMatchObject({ locked: true });
    await expect(lockout.state(crafted(8), now)).resolves.toEqual({ locked: false });
  });

  it('the rate limiter holds well under 1 KB per window of a new crafted key', async () => {
    const limiter = new InMemoryRateLimiter({ now: () => new Date() });
    const policy = { name: 'login-id', limit: 10, windowSeconds: 300 };
    const retained = await retainedBytes(async () => {
      for (let i = 0; i < 2000; i += 1) await limiter.consume(policy, crafted(i));
    });
    expect(retained / 2000).toBeLessThan(1024);
    for (let i = 0; i < 10; i += 1) await limiter.consume(policy, crafted(3));
    await expect(limiter.consume(policy, crafted(3))).resolves.toMatchObject({ allowed: false });
    await expect(limiter.consume(policy, crafted(4))).resolves.toMatchObject({ allowed: true });
  });

  it('the rate limiter keeps at most its bound of windows, forgetting the one started longest ago (a review: nothing bounded them within a window)', async () => {
    const limiter = new InMemoryRateLimiter({ now: () => new Date() }, 100);
    const policy = { name: 'register-id', limit: 2, windowSeconds: 3600 };
    await limiter.consume(policy, 'first@example.com');
    await limiter.consume(policy, 'kept@example.com');
    for (let i = 0; i < 98; i += 1) await limiter.consume(policy, `flood-${i}@example.com`);
    // 100 windows: each still counts.
    await expect(limiter.consume(policy, 'first@example.com')).resolves.toMatchObject({ allowed: true, remaining: 0 });
    await expect(limiter.consume(policy, 'kept@example.com')).resolves.toMatchObject({ allowed: true, remaining: 0 });
    expect(limiter.size).toBe(100);
    for (let i = 98; i < 1098; i += 1) {
      await limiter.consume(policy, `flood-${i}@example.com`);
      expect(limiter.size).toBeLessThanOrEqual(100);
    }
    // The newest are counted still; the oldest were forgotten and start afresh.
    await expect(limiter.consume(policy, 'flood-1097@example.com')).resolves.toMatchObject({ allowed: true, remaining: 0 });
    await expect(limiter.consume(policy, 'first@example.com')).resolves.toMatchObject({ allowed: true, remaining: 1 });
  });

  it('the lockout remembers at most its bound of identifiers, forgetting unlocked ones before a lock', async () => {
    const lockout = new InMemoryLoginLockout(POLICY, undefined, 100);
    const now = new Date();
    for (let i = 0; i < POLICY.threshold; i += 1) {
      await lockout.reserve('victim@example.com', now);
      await lockout.recordFailure('victim@example.com', now);
    }
    for (let i = 0; i < 1000; i += 1) {
      await lockout.reserve(`flood-${i}@example.com`, now);
      await lockout.recordFailure(`flood-${i}@example.com`, now);
      expect(lockout.size).toBeLessThanOrEqual(100);
    }
    await expect(lockout.state('victim@example.com', now)).resolves.toMatchObject({ locked: true });
    // The newest failures are remembered, the oldest forgotten.
    await lockout.reserve('flood-999@example.com', now);
    for (let i = 0; i < POLICY.threshold - 2; i += 1) {
      await lockout.recordFailure('flood-999@example.com', now);
      await lockout.reserve('flood-999@example.com', now);
    }
    await expect(lockout.recordFailure('flood-999@example.com', now)).resolves.toMatchObject({ lockedNow: true });
  });
});

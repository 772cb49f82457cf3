import { Argon2PasswordHasher, QUEUE_LENGTH_PER_SLOT } from '@infrastructure/security/argon2/argon2-password-hasher';
import { NO_RATE_LIMITS, PASSWORD, type TestApp, signUp, startTestApp } from '../support/app';

/**
 * Saturated password hashing (an outside review, 2026-11-30: a login storm from many addresses queued without
 * bound): a login whose hash the gate refuses is answered 503 SERVICE_UNAVAILABLE with Retry-After, for a known
 * and an unknown account alike, and is no failed attempt: it neither counts toward the lockout nor keeps a place.
 */
describe('password hashing saturated: POST /auth/login', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ env: { ...NO_RATE_LIMITS, ARGON2_CONCURRENCY: '1', LOCKOUT_THRESHOLD: '5' } });
    await signUp(t, 'alice@example.com');
  }, 60_000);
  afterAll(async () => t?.stop());

  // A bound of its own: a login that waits for the slot (the gate without bounds) fails the test, not hangs it.
  const login = (email: string, password: string) => t.http.post('/api/v1/auth/login').timeout(3_000).send({ email, password });

  /** Holds the one slot and fills the queue with jobs that do nothing: the next hash is refused at once. */
  function saturate(): () => Promise<void> {
    const hasher = t.app.infra.hasher;
    if (!(hasher instanceof Argon2PasswordHasher)) throw new Error('the service hashes with argon2');
    let release!: () => void;
    const holder = hasher.gate.run(() => new Promise<void>((resolve) => (release = resolve)));
    const fillers = Array.from({ length: QUEUE_LENGTH_PER_SLOT }, () => hasher.gate.run(async () => undefined));
    expect(hasher.gate.queued).toBe(QUEUE_LENGTH_PER_SLOT);
    return async () => {
      release();
      await Promise.all([holder, ...fillers]);
    };
  }

  it('answers 503 with Retry-After, counts no failure and keeps no place in flight', async () => {
    const free = saturate();
    try {
      // More than the lockout's threshold, for the account and for an unknown one.
      for (let i = 0; i < 6; i += 1) {
        for (const email of ['alice@example.com', 'nobody@example.com']) {
          const refused = await login(email, 'a wrong guess');
          expect([refused.status, refused.body.error.code, refused.headers['retry-after']]).toEqual([503, 'SERVICE_UNAVAILABLE', '2']);
        }
      }
      const right = await login('alice@example.com', PASSWORD);
      expect([right.status, right.body.error.code]).toEqual([503, 'SERVICE_UNAVAILABLE']);
    } finally {
      await free();
    }
    await t.settle();
    // Neither six failures (a lock) nor six places in flight (429): the right password signs in.
    await login('alice@example.com', PASSWORD).expect(200);
    // The unknown account's dummy hash, refused while being made, is made afresh: a plain wrong answer again.
    const unknown = await login('nobody@example.com', 'a wrong guess');
    expect([unknown.status, unknown.body.error.code]).toEqual([401, 'INVALID_CREDENTIALS']);
  });
});

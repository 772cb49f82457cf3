import { Client } from 'pg';
import type { LoginLockout } from '@application/ports/login-lockout';
import { PORTS } from '@application/ports/tokens';
import { lockoutKey } from '@application/session/login-lockout-keys';
import { MODES, NO_RATE_LIMITS, PASSWORD, signUp, startSecureApp, type TestApp } from '../support/app';

/**
 * A failed login's bookkeeping (the account's row, its `auth.user.login_failed` and `auth.account.locked` events,
 * the audit entries, and through the event the owner's notice) follows the 401 as deferred work. An outside review
 * held the account's row locked past DATABASE_QUERY_TIMEOUT while the locking attempt's bookkeeping ran: its one
 * transaction failed, the task was only logged, and the lock (kept in Redis) stood with no event, audit entry or
 * notice, for good. Now the task is tried again until it succeeds once the row is free.
 * Servers mode only: the embedded PGlite has one connection, so no other session can hold the row.
 */
if (MODES.includes('servers')) {
  describe('a lockout whose bookkeeping meets a held row lock (servers)', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startSecureApp('servers', { ...NO_RATE_LIMITS, LOCKOUT_THRESHOLD: '3', DATABASE_QUERY_TIMEOUT: '1s' });
    }, 60_000);
    afterAll(async () => t?.stop());

    const login = (email: string, password: string) => t.http.post('/api/v1/auth/login').send({ email, password });

    it('still records the lock: its event, audit entry and notice appear once the row is free', async () => {
      const email = 'lena@example.com';
      const { user } = await signUp(t, email);
      for (let i = 0; i < 2; i += 1) await login(email, 'wrong guess').expect(401);
      await t.settle();

      const locker = new Client({ connectionString: t.config.databaseUrl! });
      await locker.connect();
      try {
        await locker.query('BEGIN');
        await locker.query('SELECT id FROM users WHERE id = $1 FOR UPDATE', [user.id]);
        await login(email, 'wrong guess').expect(401); // the third: the lock
        await new Promise((resolve) => setTimeout(resolve, 2500)); // past the query deadline: the first tries fail
        await locker.query('ROLLBACK');
      } finally {
        await locker.end();
      }
      const locked = await login(email, PASSWORD);
      expect([locked.status, locked.body.error?.code]).toEqual([429, 'ACCOUNT_LOCKED']);

      await t.settle(); // the bookkeeping, tried again after the row was released
      const ds = t.app.infra.dataSource;
      const events: { type: string }[] = await ds.query('SELECT type FROM outbox_events WHERE subject = $1 ORDER BY type', [user.id]);
      const types = events.map((e) => e.type);
      expect(types.filter((type) => type === 'auth.user.login_failed')).toHaveLength(3);
      expect(types.filter((type) => type === 'auth.account.locked')).toHaveLength(1);
      const audit: { type: string }[] = await ds.query("SELECT type FROM audit_events WHERE subject_id = $1 AND type IN ('account.locked', 'login.failed')", [user.id]);
      expect(audit.filter((row) => row.type === 'account.locked')).toHaveLength(1);
      expect(audit.filter((row) => row.type === 'login.failed').length).toBeGreaterThanOrEqual(3);
      const notice = await t.waitForMail(email, 2);
      expect(notice.subject).toMatch(/temporarily blocked/i);
    }, 30_000);

    /**
     * The review of stop 51's own retries: a try that lands after the lock was lifted (an unlock, a reset, the owner's
     * login) put it back on the account (the admin view said `locked` after an unlock and a login) and mailed the lock
     * notice after them. Lifted here as an unlock lifts it in the lockout store, while the row is still held (an unlock
     * through the API would wait for the row too).
     */
    it('a lock lifted before the bookkeeping lands is not put back on the account, nor announced', async () => {
      const email = 'lifted@example.com';
      const { user } = await signUp(t, email);
      for (let i = 0; i < 2; i += 1) await login(email, 'wrong guess').expect(401);
      await t.settle();

      const locker = new Client({ connectionString: t.config.databaseUrl! });
      await locker.connect();
      try {
        await locker.query('BEGIN');
        await locker.query('SELECT id FROM users WHERE id = $1 FOR UPDATE', [user.id]);
        await login(email, 'wrong guess').expect(401); // the third: the lock
        await t.app.container.get<LoginLockout>(PORTS.LoginLockout).clear(lockoutKey(email));
        await new Promise((resolve) => setTimeout(resolve, 1500)); // past the query deadline: the first try failed
        await locker.query('ROLLBACK');
      } finally {
        await locker.end();
      }
      await t.settle();
      const ds = t.app.infra.dataSource;
      const [row]: { locked_until: Date | null }[] = await ds.query('SELECT locked_until FROM users WHERE id = $1', [user.id]);
      expect(row!.locked_until).toBeNull();
      await login(email, PASSWORD).expect(200);
      const events: { type: string }[] = await ds.query('SELECT type FROM outbox_events WHERE subject = $1', [user.id]);
      expect(events.map((e) => e.type).filter((type) => type === 'auth.account.locked')).toEqual([]);
      // The failure itself is recorded: it happened.
      expect(events.map((e) => e.type).filter((type) => type === 'auth.user.login_failed')).toHaveLength(3);
    }, 30_000);
  });

  /**
   * The review of stop 51's fix above: "not locked in the store" was read as "lifted", so a lock that ran out by
   * itself before the bookkeeping landed (nobody unlocked, reset or signed in) was never announced, and neither was
   * one whose store could not be asked. A lift is now shown only by the shared store answering while the lock would
   * still run.
   */
  describe('a lock that ran out by itself before its bookkeeping landed (servers)', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startSecureApp('servers', { ...NO_RATE_LIMITS, LOCKOUT_THRESHOLD: '3', LOCKOUT_DURATION: '2s', DATABASE_QUERY_TIMEOUT: '1s' });
    }, 60_000);
    afterAll(async () => t?.stop());

    const login = (email: string, password: string) => t.http.post('/api/v1/auth/login').send({ email, password });

    it('is still recorded and announced, its end in the past', async () => {
      const email = 'ran-out@example.com';
      const { user } = await signUp(t, email);
      for (let i = 0; i < 2; i += 1) await login(email, 'wrong guess').expect(401);
      await t.settle();
      const locker = new Client({ connectionString: t.config.databaseUrl! });
      await locker.connect();
      try {
        await locker.query('BEGIN');
        await locker.query('SELECT id FROM users WHERE id = $1 FOR UPDATE', [user.id]);
        await login(email, 'wrong guess').expect(401); // the third: a 2-s lock
        t.clock.advance(3);
        await new Promise((resolve) => setTimeout(resolve, 3500)); // the lock has run out, in the store too
        await locker.query('ROLLBACK');
      } finally {
        await locker.end();
      }
      await t.settle();
      const ds = t.app.infra.dataSource;
      const events: { type: string }[] = await ds.query('SELECT type FROM outbox_events WHERE subject = $1', [user.id]);
      expect(events.map((e) => e.type).filter((type) => type === 'auth.account.locked')).toHaveLength(1);
      const [row]: { locked_until: Date | null }[] = await ds.query('SELECT locked_until FROM users WHERE id = $1', [user.id]);
      expect(row!.locked_until!.getTime()).toBeLessThanOrEqual(t.clock.now().getTime());
      const notice = await t.waitForMail(email, 2);
      expect(notice.subject).toMatch(/temporarily blocked/i);
      await login(email, PASSWORD).expect(200);
    }, 30_000);
  });
} else {
  it('the held-row-lock bookkeeping test needs the real PostgreSQL: left out here (CI=true runs it)', () => {
    expect(MODES).toEqual(['embedded']);
  });
}

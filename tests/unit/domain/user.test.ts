import { Role } from '@domain/user/role';
import { User } from '@domain/user/user';
import { aUser } from '../../support/mothers';

const NOW = new Date('2026-01-01T00:00:00Z');

const newUser = (emailVerified = false): User => aUser({ email: 'alice@example.com', firstName: 'Alice', username: null, emailVerified, now: NOW });

describe('User', () => {
  it('registers pending verification and records auth.user.registered without secrets', () => {
    const user = newUser();
    expect(user.status).toBe('pending_verification');
    expect(user.roles).toEqual(['user']);
    const events = user.pullEvents();
    expect(events.map((e) => e.type)).toEqual(['auth.user.registered']);
    expect(JSON.stringify(events)).not.toContain('argon2');
    expect(user.pullEvents()).toEqual([]);
  });

  it('verifies once: status becomes active, a second call records nothing', () => {
    const user = newUser();
    user.pullEvents();
    user.verifyEmail(NOW);
    expect(user.status).toBe('active');
    expect(user.emailVerified).toBe(true);
    user.verifyEmail(NOW);
    expect(user.pullEvents().map((e) => e.type)).toEqual(['auth.user.email_verified']);
  });

  it('changes roles as a set: the same roles in another order change nothing; a real change records one event', () => {
    const user = newUser(true);
    expect(user.changeRoles(Role.list(['user', 'admin']), NOW, 'actor')).toBe(true);
    user.pullEvents();
    const later = new Date(NOW.getTime() + 60_000);
    expect(user.changeRoles(Role.list(['admin', 'user']), later, 'actor')).toBe(false);
    expect(user.pullEvents()).toEqual([]);
    expect(user.roles).toEqual(['user', 'admin']);
    expect(user.toState().updatedAt).toEqual(NOW);
    expect(user.changeRoles(Role.list(['admin']), later, 'actor')).toBe(true);
    expect(user.pullEvents().map((e) => e.type)).toEqual(['auth.user.roles_changed']);
  });

  it('refuses authentication when unverified (if required) or suspended', () => {
    const user = newUser();
    expect(() => user.assertCanAuthenticate(true)).toThrow(expect.objectContaining({ code: 'EMAIL_NOT_VERIFIED' }));
    expect(() => user.assertCanAuthenticate(false)).not.toThrow();
    const suspended = User.restore({ ...newUser(true).toState(), status: 'suspended' });
    expect(() => suspended.assertCanAuthenticate(false)).toThrow(expect.objectContaining({ code: 'ACCOUNT_DISABLED' }));
    expect(suspended.isUsable(false)).toBe(false);
  });

  it('counts failed logins and resets them on success', () => {
    const user = newUser(true);
    user.recordFailedLogin(NOW, 'wrong_password');
    user.recordFailedLogin(NOW, 'wrong_password');
    expect(user.credentials.failedAttempts).toBe(2);
    user.recordSuccessfulLogin(NOW, 'session-1', ['pwd']);
    expect(user.credentials.failedAttempts).toBe(0);
    expect(user.toState().lastLoginAt).toEqual(NOW);
  });

  it('a failure recorded after a later success (bookkeeping that follows the answer) does not count, its event still tells', () => {
    const user = newUser(true);
    const later = new Date(NOW.getTime() + 1000);
    user.recordSuccessfulLogin(later, 'session-1', ['pwd']);
    user.pullEvents();
    user.recordFailedLogin(NOW, 'wrong_password');
    expect(user.credentials.failedAttempts).toBe(0);
    expect(user.pullEvents().map((e) => [e.type, e.data])).toEqual([['auth.user.login_failed', { user_id: user.id, reason: 'wrong_password', failed_attempts: 0 }]]);
    user.recordFailedLogin(new Date(later.getTime() + 1), 'wrong_password');
    expect(user.credentials.failedAttempts).toBe(1);
  });

  it('discards an unproven password and profile (a contested sign-up), never a proven one', () => {
    const pending = newUser();
    pending.pullEvents();
    expect(pending.discardUnprovenPassword(NOW)).toBe(true);
    expect(pending.credentials.passwordHash).toBeNull();
    expect(pending.toState()).toMatchObject({ firstName: null, username: null, status: 'pending_verification' });
    expect(pending.pullEvents().map((e) => e.type)).toEqual(['auth.credentials.updated', 'auth.user.updated']);
    expect(pending.discardUnprovenPassword(NOW)).toBe(false); // nothing left to discard
    const proven = newUser(true);
    proven.pullEvents();
    expect(proven.discardUnprovenPassword(NOW)).toBe(false);
    expect(proven.credentials.passwordHash).not.toBeNull();
    expect(proven.toState().firstName).toBe('Alice');
    expect(proven.pullEvents()).toEqual([]);
  });

  describe('status locked (CONTRACT §2)', () => {
    const LATER = new Date(NOW.getTime() + 900_000);
    const lockedUser = (): User => {
      const user = newUser(true);
      user.recordLockout(NOW, LATER);
      return user;
    };

    it('an active account reads locked while its recorded lock is ahead of now, active from its end on; the stored status never changes', () => {
      const user = lockedUser();
      expect([user.statusAt(NOW), user.statusAt(new Date(LATER.getTime() - 1)), user.statusAt(LATER)]).toEqual(['locked', 'locked', 'active']);
      expect([user.lockedUntilAt(NOW), user.lockedUntilAt(LATER)]).toEqual([LATER, null]);
      expect(user.status).toBe('active');
      expect(User.statusOf('active', LATER, NOW)).toBe('locked');
      expect(User.statusOf('active', null, NOW)).toBe('active');
    });

    it('suspended and pending accounts keep their status during a lock', () => {
      const suspended = lockedUser();
      suspended.suspend(NOW, 'admin');
      expect(suspended.statusAt(NOW)).toBe('suspended');
      const pending = newUser();
      pending.recordLockout(NOW, LATER);
      expect(pending.statusAt(NOW)).toBe('pending_verification');
    });

    it('a login, a reset and an admin unlock clear it (as they clear the lockout store); a password change does not (the store keeps its lock)', () => {
      const login = lockedUser();
      login.recordSuccessfulLogin(NOW, 'session-id', ['pwd']);
      const reset = lockedUser();
      reset.resetPassword('$argon2id$new', NOW);
      const unlocked = lockedUser();
      unlocked.unlock(NOW);
      expect([login, reset, unlocked].map((u) => [u.statusAt(NOW), u.credentials.lockedUntil])).toEqual([
        ['active', null],
        ['active', null],
        ['active', null],
      ]);
      const changed = lockedUser();
      changed.changePassword('$argon2id$new', NOW);
      expect([changed.statusAt(NOW), changed.credentials.failedAttempts]).toEqual(['locked', 0]);
      const lifted = lockedUser();
      expect([lifted.liftRecordedLock(), lifted.liftRecordedLock(), lifted.statusAt(NOW)]).toEqual([true, false, 'active']);
    });

    it("a second-step (MFA) lock is evented like a login lock, as factor second_factor, but leaves the status alone", () => {
      const user = newUser(true);
      user.pullEvents();
      user.recordSecondFactorLockout(NOW, LATER);
      expect([user.statusAt(NOW), user.credentials.lockedUntil]).toEqual(['active', null]);
      expect(user.pullEvents().map((e) => [e.type, e.data])).toEqual([
        ['auth.account.locked', { user_id: user.id, locked_until: LATER.toISOString(), factor: 'second_factor' }],
      ]);
    });

    it('a password lock is evented as factor password (consumers tell it from a second-step lock)', () => {
      const user = newUser(true);
      user.pullEvents();
      user.recordLockout(NOW, LATER);
      expect(user.pullEvents().map((e) => [e.type, e.data])).toEqual([['auth.account.locked', { user_id: user.id, locked_until: LATER.toISOString(), factor: 'password' }]]);
    });
  });

  it('rehashing keeps passwordChangedAt', () => {
    const user = newUser(true);
    const changedAt = user.credentials.passwordChangedAt;
    user.rehashPassword('$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA');
    expect(user.credentials.passwordHash).toContain('m=65536');
    expect(user.credentials.passwordChangedAt).toEqual(changedAt);
  });

  it('restore/toState round-trips and copies (no shared mutable state)', () => {
    const state = newUser(true).toState();
    const restored = User.restore(state);
    state.roles.push('admin');
    expect(restored.roles).toEqual(['user']);
    expect(restored.toState()).toEqual({ ...state, roles: ['user'] });
  });
});

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

import { Credentials } from '@domain/user/credentials';
import { User } from '@domain/user/user';
import { InMemoryDatabase } from '@infrastructure/persistence/memory/in-memory-database';
import { InMemoryUserRepository } from '@infrastructure/persistence/memory/in-memory-user.repository';
import { Email } from '@domain/user/email';
import { UserId } from '@domain/user/user-id';

const T0 = new Date('2026-01-01T00:00:00.000Z');
const T1 = new Date('2026-01-02T00:00:00.000Z');
const OLD = '$argon2id$v=19$m=19456,t=2,p=1$b2xk$b2xk';
const NEW = '$argon2id$v=19$m=65536,t=3,p=4$bmV3$bmV3';

describe('Credentials keyed by type', () => {
  it('a new account has its password and nothing else', () => {
    const credentials = Credentials.create(OLD, T0);
    expect(credentials.list()).toEqual([{ type: 'password', hash: OLD, changedAt: T0 }]);
    expect([credentials.has('password'), credentials.has('totp'), credentials.has('recovery_codes')]).toEqual([true, false, false]);
    expect([credentials.passwordHash, credentials.passwordChangedAt, credentials.failedAttempts, credentials.lockedUntil]).toEqual([OLD, T0, 0, null]);
  });

  it('a rehash keeps the change date; a change resets failures and keeps the recorded lock (the lockout store keeps its own)', () => {
    const failing = Credentials.create(OLD, T0).withFailure().withFailure().withLock(T1);
    expect(failing.rehashed(NEW).toState()).toEqual({ byType: { password: { type: 'password', hash: NEW, changedAt: T0 } }, failedAttempts: 2, lockedUntil: T1 });
    expect(failing.changed(NEW, T1).toState()).toEqual({ byType: { password: { type: 'password', hash: NEW, changedAt: T1 } }, failedAttempts: 0, lockedUntil: T1 });
    expect(failing.withoutLock().toState()).toMatchObject({ failedAttempts: 2, lockedUntil: null });
    expect([failing.lockedUntilAt(T0), failing.lockedUntilAt(T1)]).toEqual([T1, null]);
    expect(failing.passwordHash).toBe(OLD);
  });

  it('without a password: no hash, a rehash changes nothing, a reset sets one', () => {
    const none = Credentials.restore({ byType: {}, failedAttempts: 0, lockedUntil: null });
    expect([none.password, none.passwordHash, none.passwordChangedAt]).toEqual([null, null, null]);
    expect(none.rehashed(NEW).list()).toEqual([]);
    expect(none.changed(NEW, T1).list()).toEqual([{ type: 'password', hash: NEW, changedAt: T1 }]);
  });

  it('restore and toState copy (no shared mutable state)', () => {
    const codes = ['a', 'b'];
    const state = { byType: { recovery_codes: { type: 'recovery_codes' as const, codeHashes: codes, createdAt: T0 } }, failedAttempts: 0, lockedUntil: null };
    const credentials = Credentials.restore(state);
    codes.push('c');
    expect(credentials.get('recovery_codes')?.codeHashes).toEqual(['a', 'b']);
    const out = credentials.toState();
    (out.byType.recovery_codes!.codeHashes as string[]).push('d');
    expect(credentials.get('recovery_codes')?.codeHashes).toEqual(['a', 'b']);
  });
});

describe('InMemoryUserRepository keeps credentials by type', () => {
  it('round-trips every type and writes a changed password without touching the others', async () => {
    const db = new InMemoryDatabase();
    const users = new InMemoryUserRepository(db);
    const registered = User.register(
      { id: UserId.create('0b6f5e2a-8c1d-4f3e-9b7a-1d2c3e4f5a6b'), email: Email.create('ada@example.com'), username: null, firstName: null, lastName: null, passwordHash: OLD, emailVerified: true },
      T0,
    );
    const state = registered.toState();
    const totp = { type: 'totp' as const, sealedSecret: 'sealed', confirmedAt: T0, createdAt: T0 };
    // A confirmed TOTP credential means MFA is on: the flag must agree (User.restore checks it).
    const user = User.restore({ ...state, mfaEnabled: true, credentials: { ...state.credentials, byType: { ...state.credentials.byType, totp } } });
    await users.add(user);
    const loaded = (await users.findByIdForUpdate(user.id))!;
    expect(loaded.toState()).toEqual(user.toState());
    loaded.changePassword(NEW, T1);
    await users.save(loaded);
    const found = (await users.findById(user.id))!;
    expect(found.credentials.list()).toEqual([{ type: 'password', hash: NEW, changedAt: T1 }, totp]);
    // A copy read without the lock cannot be saved.
    await expect(users.save(found)).rejects.toThrow(/FOR UPDATE/);
  });
});

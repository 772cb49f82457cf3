import { equalsConstantTime } from '@domain/shared/constant-time';
import { recoveryCodesReplaced } from '@domain/user/mfa';
import { User } from '@domain/user/user';
import { aVerifiedUser, at } from '../../support/mothers';

const T1 = at('2026-03-01T00:00:00.000Z');
const T2 = at('2026-03-01T00:01:00.000Z');
const T3 = at('2026-03-01T00:02:00.000Z');
const CODES = ['hash-a', 'hash-b', 'hash-c'];

const fresh = (): User => {
  const user = aVerifiedUser();
  user.pullEvents();
  return user;
};
const enabled = (): User => {
  const user = fresh();
  user.beginTotpSetup('sealed:one', T1);
  user.confirmTotp(CODES, T2);
  user.pullEvents();
  return user;
};
const codeOf = (user: User) => user.credentials.get('recovery_codes');
const conflict = (message: string) => expect.objectContaining({ code: 'CONFLICT', message });

describe('User MFA verbs', () => {
  it('beginTotpSetup stores a pending secret that enables nothing, and records no event', () => {
    const user = fresh();
    user.beginTotpSetup('sealed:one', T1);
    expect(user.credentials.get('totp')).toEqual({ type: 'totp', sealedSecret: 'sealed:one', confirmedAt: null, createdAt: T1 });
    expect(user.mfaEnabled).toBe(false);
    expect(user.toState()).toMatchObject({ mfaEnabled: false, updatedAt: T1 });
    expect(user.recoveryCodesLeft).toBe(0);
    expect(user.pullEvents()).toEqual([]);
  });

  it('beginTotpSetup again replaces the pending secret', () => {
    const user = fresh();
    user.beginTotpSetup('sealed:one', T1);
    user.beginTotpSetup('sealed:two', T2);
    expect(user.credentials.get('totp')).toEqual({ type: 'totp', sealedSecret: 'sealed:two', confirmedAt: null, createdAt: T2 });
  });

  it('beginTotpSetup is refused once TOTP is confirmed, and changes nothing', () => {
    const user = enabled();
    const before = user.toState();
    expect(() => user.beginTotpSetup('sealed:other', T3)).toThrow(conflict('Two-factor authentication is already enabled.'));
    expect(user.toState()).toEqual(before);
  });

  it('confirmTotp enables MFA with the recovery-code hashes and records auth.mfa.enabled', () => {
    const user = fresh();
    user.beginTotpSetup('sealed:one', T1);
    user.confirmTotp(CODES, T2);
    expect(user.credentials.get('totp')).toEqual({ type: 'totp', sealedSecret: 'sealed:one', confirmedAt: T2, createdAt: T1 });
    expect(codeOf(user)).toEqual({ type: 'recovery_codes', codeHashes: CODES, createdAt: T2 });
    expect(user.mfaEnabled).toBe(true);
    expect(user.toState()).toMatchObject({ mfaEnabled: true, updatedAt: T2 });
    expect(user.recoveryCodesLeft).toBe(3);
    expect(user.pullEvents()).toEqual([
      { type: 'auth.mfa.enabled', subject: user.id, occurredAt: T2, data: { user_id: user.id, method: 'totp' } },
    ]);
  });

  it('confirmTotp is refused without a pending set-up, and a second time', () => {
    const user = fresh();
    expect(() => user.confirmTotp(CODES, T2)).toThrow(conflict('There is no two-factor set-up to confirm; start the set-up first.'));
    expect(user.mfaEnabled).toBe(false);
    const on = enabled();
    const before = on.toState();
    expect(() => on.confirmTotp(['other'], T3)).toThrow(conflict('Two-factor authentication is already enabled.'));
    expect(on.toState()).toEqual(before);
    expect(on.pullEvents()).toEqual([]);
  });

  it('refuses empty, blank or repeated recovery-code hashes (a caller bug, not a client error)', () => {
    for (const bad of [[], ['a', ''], ['a', 'a']]) {
      const user = fresh();
      user.beginTotpSetup('sealed:one', T1);
      expect(() => user.confirmTotp(bad, T2)).toThrow(/recovery codes/);
      expect(user.mfaEnabled).toBe(false);
      expect(() => enabled().replaceRecoveryCodes(bad, T3)).toThrow(/recovery codes/);
    }
    expect(() => fresh().beginTotpSetup('', T1)).toThrow(/sealed secret/);
  });

  it('does not keep a reference to the caller\'s array', () => {
    const hashes = [...CODES];
    const user = fresh();
    user.beginTotpSetup('sealed:one', T1);
    user.confirmTotp(hashes, T2);
    hashes.push('injected');
    expect(user.recoveryCodesLeft).toBe(3);
  });

  it('useRecoveryCode spends a code once; an unknown code changes nothing', () => {
    const user = enabled();
    expect(user.useRecoveryCode('hash-b', T3)).toBe(true);
    expect(codeOf(user)?.codeHashes).toEqual(['hash-a', 'hash-c']);
    expect(user.recoveryCodesLeft).toBe(2);
    expect(user.useRecoveryCode('hash-b', T3)).toBe(false);
    expect(user.useRecoveryCode('hash-', T3)).toBe(false);
    expect(user.useRecoveryCode('hash-bb', T3)).toBe(false);
    expect(user.recoveryCodesLeft).toBe(2);
    expect(user.useRecoveryCode('hash-a', T3)).toBe(true);
    expect(user.useRecoveryCode('hash-c', T3)).toBe(true);
    expect(user.recoveryCodesLeft).toBe(0);
    expect(user.useRecoveryCode('hash-a', T3)).toBe(false);
    expect(user.mfaEnabled).toBe(true);
    expect(user.pullEvents()).toEqual([]);
  });

  it('useRecoveryCode is false without MFA', () => {
    expect(fresh().useRecoveryCode('hash-a', T3)).toBe(false);
  });

  it('a spent code is remembered as spent (a replay), apart from one never issued; a new set or MFA off forgets them', () => {
    const user = enabled();
    expect(['hash-a', 'hash-b', 'hash-', 'nope'].map((h) => user.isSpentRecoveryCode(h))).toEqual([false, false, false, false]);
    expect(user.useRecoveryCode('hash-b', T3)).toBe(true);
    expect(codeOf(user)).toEqual({ type: 'recovery_codes', codeHashes: ['hash-a', 'hash-c'], createdAt: T2, spentHashes: ['hash-b'] });
    expect(user.useRecoveryCode('hash-c', T3)).toBe(true);
    expect(['hash-a', 'hash-b', 'hash-c', 'hash-bb', 'nope'].map((h) => user.isSpentRecoveryCode(h))).toEqual([false, true, true, false, false]);
    // Survives a round trip through the state (what the repositories store).
    const restored = User.restore(user.toState());
    expect(['hash-b', 'hash-c', 'hash-a'].map((h) => restored.isSpentRecoveryCode(h))).toEqual([true, true, false]);
    expect(restored.useRecoveryCode('hash-b', T3)).toBe(false);
    // A new set: the old set's codes, spent or not, are just wrong now.
    restored.replaceRecoveryCodes(['new-1'], T3);
    expect(codeOf(restored)).toEqual({ type: 'recovery_codes', codeHashes: ['new-1'], createdAt: T3 });
    expect(['hash-b', 'hash-c', 'new-1'].map((h) => restored.isSpentRecoveryCode(h))).toEqual([false, false, false]);
    user.disableMfa(T3);
    expect(user.isSpentRecoveryCode('hash-b')).toBe(false);
    expect(fresh().isSpentRecoveryCode('hash-b')).toBe(false);
  });

  it('recoveryCodesReplaced: a regeneration (same instant or not) or MFA off and on again is a replacement; spent codes are not', () => {
    const before = enabled();
    const spent = User.restore(before.toState());
    spent.useRecoveryCode('hash-b', T3);
    expect(recoveryCodesReplaced(before.credentials, spent.credentials)).toBe(false);
    expect(recoveryCodesReplaced(before.credentials, before.credentials)).toBe(false);
    // Regenerated at the very instant of the first set (a frozen clock): told apart by the hashes.
    const sameInstant = User.restore(before.toState());
    sameInstant.replaceRecoveryCodes(['new-1', 'new-2'], T2);
    expect(recoveryCodesReplaced(before.credentials, sameInstant.credentials)).toBe(true);
    // A set of the same hashes made later (never in practice: codes are random) is still another set.
    const later = User.restore(before.toState());
    later.replaceRecoveryCodes(CODES, T3);
    expect(recoveryCodesReplaced(before.credentials, later.credentials)).toBe(true);
    const off = User.restore(before.toState());
    off.disableMfa(T3);
    expect(recoveryCodesReplaced(before.credentials, off.credentials)).toBe(true);
    expect(recoveryCodesReplaced(fresh().credentials, fresh().credentials)).toBe(false);
  });

  it('replaceRecoveryCodes voids the old set; refused without MFA', () => {
    const user = enabled();
    user.useRecoveryCode('hash-a', T3);
    user.replaceRecoveryCodes(['new-1', 'new-2'], T3);
    expect(codeOf(user)).toEqual({ type: 'recovery_codes', codeHashes: ['new-1', 'new-2'], createdAt: T3 });
    expect(user.useRecoveryCode('hash-b', T3)).toBe(false);
    expect(user.useRecoveryCode('new-2', T3)).toBe(true);
    const pending = fresh();
    pending.beginTotpSetup('sealed:one', T1);
    expect(() => pending.replaceRecoveryCodes(['x'], T2)).toThrow(conflict('Two-factor authentication is not enabled.'));
    expect(pending.credentials.has('recovery_codes')).toBe(false);
  });

  it('disableMfa removes TOTP and recovery codes and records auth.mfa.disabled with the actor', () => {
    const user = enabled();
    expect(user.disableMfa(T3)).toBe(true);
    expect(user.credentials.has('totp')).toBe(false);
    expect(user.credentials.has('recovery_codes')).toBe(false);
    expect(user.credentials.passwordHash).not.toBeNull();
    expect(user.toState()).toMatchObject({ mfaEnabled: false, updatedAt: T3 });
    expect(user.pullEvents()).toEqual([
      { type: 'auth.mfa.disabled', subject: user.id, occurredAt: T3, data: { user_id: user.id, method: 'totp', actor_id: user.id } },
    ]);
    const byAdmin = enabled();
    byAdmin.disableMfa(T3, 'admin-id');
    expect(byAdmin.pullEvents().map((e) => e.data)).toEqual([{ user_id: byAdmin.id, method: 'totp', actor_id: 'admin-id' }]);
  });

  it('disableMfa drops a pending set-up without an event, and does nothing without MFA', () => {
    const pending = fresh();
    pending.beginTotpSetup('sealed:one', T1);
    expect(pending.disableMfa(T3)).toBe(false);
    expect(pending.credentials.has('totp')).toBe(false);
    expect(pending.pullEvents()).toEqual([]);
    const none = fresh();
    const before = none.toState();
    expect(none.disableMfa(T3)).toBe(false);
    expect(none.toState()).toEqual(before);
    expect(none.pullEvents()).toEqual([]);
  });

  it('after disabling, set-up starts again from scratch', () => {
    const user = enabled();
    user.disableMfa(T3);
    user.beginTotpSetup('sealed:two', T3);
    user.confirmTotp(['z'], T3);
    expect(user.mfaEnabled).toBe(true);
    expect(user.recoveryCodesLeft).toBe(1);
  });

  it('restores MFA state, and refuses a flag that disagrees with the TOTP credential', () => {
    const state = enabled().toState();
    expect(User.restore(state).toState()).toEqual(state);
    expect(User.restore(state).mfaEnabled).toBe(true);
    expect(() => User.restore({ ...state, mfaEnabled: false })).toThrow(/mfaEnabled disagrees/);
    expect(() => User.restore({ ...fresh().toState(), mfaEnabled: true })).toThrow(/mfaEnabled disagrees/);
  });
});

describe('equalsConstantTime', () => {
  it('is string equality', () => {
    expect(equalsConstantTime('abc', 'abc')).toBe(true);
    expect(equalsConstantTime('', '')).toBe(true);
    for (const [a, b] of [['abc', 'abd'], ['abc', 'ab'], ['ab', 'abc'], ['', 'a'], ['a\u0000', 'a']]) {
      expect(equalsConstantTime(a as string, b as string)).toBe(false);
    }
  });
});

describe('TOTP time steps (RFC 6238 section 5.2)', () => {
  it('a step is accepted once; an older one after a newer one is refused; the step confirming TOTP is spent', () => {
    const user = fresh();
    user.beginTotpSetup('sealed:one', T1);
    user.confirmTotp(CODES, T2, 1000);
    expect(user.credentials.get('totp')?.lastUsedStep).toBe(1000);
    expect(user.useTotpStep(1000)).toBe(false);
    expect(user.useTotpStep(999)).toBe(false);
    expect(user.useTotpStep(1001)).toBe(true);
    expect(user.useTotpStep(1001)).toBe(false);
    expect(user.useTotpStep(1003)).toBe(true);
    expect(user.useTotpStep(1002)).toBe(false);
    expect(user.credentials.get('totp')?.lastUsedStep).toBe(1003);
  });

  it('without a TOTP credential, or with a step that is not an integer, nothing is accepted', () => {
    expect(fresh().useTotpStep(5)).toBe(false);
    const user = enabled();
    expect(user.useTotpStep(Number.NaN)).toBe(false);
    expect(user.useTotpStep(1.5)).toBe(false);
    expect(user.useTotpStep(7)).toBe(true);
  });
});

import { randomBytes } from 'node:crypto';
import { SEALED } from '@application/ports/secret-box';
import { PORTS } from '@application/ports/tokens';
import { SecondFactor } from '@application/mfa/second-factor';
import { HmacRecoveryCodes } from '@infrastructure/security/crypto/hmac-recovery-codes';
import { OtpauthTotp } from '@infrastructure/security/otp/otpauth-totp';
import { VerifyHook } from '../../../support/kit';
import { CLIENT, PASSWORD, createKit, sidOf } from '../support/test-kit';

type Kit = Awaited<ReturnType<typeof createKit>>;

const totp = new OtpauthTotp();

/** A verified user with TOTP on (set-up and enable through the use cases); the secret and backup codes. */
async function enrolled(kit: Kit, email = 'alice@example.com') {
  const { user, tokens } = await kit.loggedIn(email);
  const sid = await sidOf(kit, tokens.accessToken);
  const setup = await kit.useCases.BeginTotpSetup.execute({ userId: user.id, sessionId: sid, client: CLIENT });
  const code = totp.generate(setup.secret, kit.clock.now());
  const { backupCodes } = await kit.useCases.EnableTotp.execute({ userId: user.id, sessionId: sid, code, client: CLIENT });
  kit.clock.advance(60);
  return { userId: user.id, sessionId: sid, secret: setup.secret, backupCodes };
}

/** An active admin, signed in, to act through the admin use cases. */
const anAdmin = (kit: Kit, email?: string) => kit.anAdmin(email);

describe('MFA use cases (in-memory adapters)', () => {
  it('login answers a challenge, not tokens; the second step signs in with amr pwd+otp and records the login', async () => {
    const kit = await createKit();
    const { secret, userId } = await enrolled(kit);
    const outcome = await kit.useCases.LoginWithPassword.execute({ identifier: 'alice@example.com', password: PASSWORD, client: CLIENT });
    expect(outcome).toEqual({ mfaRequired: true, mfaToken: expect.any(String), expiresInSeconds: 300 });
    if (!outcome.mfaRequired) throw new Error('expected a challenge');
    const before = kit.eventTypes().filter((type) => type === 'auth.user.logged_in').length;
    const { tokens } = await kit.useCases.VerifyMfaLogin.execute({ mfaToken: outcome.mfaToken, proof: { code: totp.generate(secret, kit.clock.now()) }, client: CLIENT });
    const claims = await kit.tokens.verify(tokens.accessToken);
    expect(claims).toMatchObject({ sub: userId, amr: ['pwd', 'otp'] });
    expect(kit.eventTypes().filter((type) => type === 'auth.user.logged_in').length).toBe(before + 1);
    expect(kit.auditTypes()).toEqual(expect.arrayContaining(['mfa.setup_started', 'mfa.enabled', 'mfa.challenge_issued', 'login.succeeded']));
  });

  /**
   * Found by an outside review on 2026-11-30: a right code sent again (a retry, a double click, duplicates at once)
   * counted as a wrong one and locked the account's second step right after it signed in. What tells a replay is
   * the service's own record that the code's step is spent (the replay guard, the account's last step), after the
   * code was verified: a wrong code still counts.
   */
  it('a replayed code is refused (INVALID_CREDENTIALS) but counts no failure, at login and when disabling; a wrong one counts', async () => {
    const kit = await createKit();
    const { secret, userId } = await enrolled(kit);
    const pending = async () => {
      const outcome = await kit.useCases.LoginWithPassword.execute({ identifier: 'alice@example.com', password: PASSWORD, client: CLIENT });
      if (!outcome.mfaRequired) throw new Error('expected a challenge');
      return outcome.mfaToken;
    };
    const verify = async (code: string) => kit.useCases.VerifyMfaLogin.execute({ mfaToken: await pending(), proof: { code }, client: CLIENT });
    const code = totp.generate(secret, kit.clock.now());
    const tokens = await Promise.all(Array.from({ length: 5 }, () => pending()));
    const burst = await Promise.allSettled(tokens.map((mfaToken) => kit.useCases.VerifyMfaLogin.execute({ mfaToken, proof: { code }, client: CLIENT })));
    expect(burst.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of burst) if (r.status === 'rejected') expect(r.reason).toMatchObject({ code: 'INVALID_CREDENTIALS' });
    for (let i = 0; i < 8; i++) await expect(verify(code)).rejects.toMatchObject({ code: 'INVALID_CREDENTIALS' });
    kit.clock.advance(30);
    const { tokens: session } = await verify(totp.generate(secret, kit.clock.now()));
    // Disabling with the code that just signed in: a replay too, refused and not counted.
    const sid = await sidOf(kit, session.accessToken);
    const disable = (c: string) => kit.useCases.DisableTotp.execute({ userId, sessionId: sid, password: PASSWORD, proof: { code: c }, client: CLIENT });
    for (let i = 0; i < 6; i++) await expect(disable(totp.generate(secret, kit.clock.now()))).rejects.toMatchObject({ code: 'INVALID_CREDENTIALS' });
    expect((await kit.mfaLockout.reserve(userId, kit.clock.now())).locked).toBe(false);
    await kit.mfaLockout.release(userId);
    const reasons = kit.db.tables.auditEvents.filter((e) => e.reason === 'wrong_mfa_code');
    expect(reasons).toHaveLength(0);
    expect(kit.db.tables.auditEvents.filter((e) => e.reason === 'mfa_code_replayed').length).toBe(4 + 8 + 6);
    // A wrong code is a guess: five lock the second step, the right code included.
    kit.clock.advance(30);
    const right = totp.generate(secret, kit.clock.now());
    const wrong = right === '123456' ? '654321' : '123456';
    for (let i = 0; i < 5; i++) await expect(verify(wrong)).rejects.toMatchObject({ code: 'INVALID_CREDENTIALS' });
    await expect(verify(right)).rejects.toMatchObject({ code: 'ACCOUNT_LOCKED' });
  });

  /**
   * A review of stop 50: two right codes on one pending login at once (a slow request, then the app's next code on
   * the same screen). The loser's code was never accepted, but its claim in the shared replay store was kept, so it
   * was refused everywhere for its window (a new login with it: INVALID_CREDENTIALS, audited as a replay). Its claim
   * is now given back; a code the account did accept stays refused.
   */
  it("a right code that lost a race on the same pending login is not spent: it signs in afterwards, and the winner's stays refused", async () => {
    const kit = await createKit();
    const { secret } = await enrolled(kit);
    const pending = async () => {
      const outcome = await kit.useCases.LoginWithPassword.execute({ identifier: 'alice@example.com', password: PASSWORD, client: CLIENT });
      if (!outcome.mfaRequired) throw new Error('expected a challenge');
      return outcome.mfaToken;
    };
    let later = 0;
    for (let round = 0; round < 4; round++) {
      kit.clock.advance(90);
      const now = kit.clock.now();
      const [current, next] = [totp.generate(secret, now), totp.generate(secret, new Date(now.getTime() + 30_000))];
      if (current === next) continue;
      const mfaToken = await pending();
      const race = await Promise.allSettled([current, next].map((code) => kit.useCases.VerifyMfaLogin.execute({ mfaToken, proof: { code }, client: CLIENT })));
      expect(race.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
      const [winner, loser] = race[0]!.status === 'fulfilled' ? [current, next] : [next, current];
      // The winner's code is spent: refused on a new login (a replay).
      await expect(kit.useCases.VerifyMfaLogin.execute({ mfaToken: await pending(), proof: { code: winner }, client: CLIENT })).rejects.toMatchObject({ code: 'INVALID_CREDENTIALS' });
      if (loser === next) {
        // The later code was never accepted and is newer than the account's last step: it signs in.
        later += 1;
        const { tokens } = await kit.useCases.VerifyMfaLogin.execute({ mfaToken: await pending(), proof: { code: loser }, client: CLIENT });
        expect(tokens.accessToken).toEqual(expect.any(String));
      }
    }
    expect(later).toBeGreaterThan(0);
  });

  it("status locked mirrors the password lockout only: the password step lifts a recorded lock the store no longer has; a second-step lock is evented but not `locked`", async () => {
    const kit = await createKit();
    const { secret, userId } = await enrolled(kit);
    const stored = async () => (await kit.repos.users.findById(userId))!;
    // A lock recorded on the row that the lockout store no longer holds (cleared with another identifier's login,
    // or a store flushed): the password step clears every identifier's entries, and the row's with them.
    const state = (await stored()).toState();
    kit.overwriteUser({ ...state, credentials: { ...state.credentials, lockedUntil: new Date(kit.clock.now().getTime() + 900_000) } });
    expect((await stored()).statusAt(kit.clock.now())).toBe('locked');
    const login = () => kit.useCases.LoginWithPassword.execute({ identifier: 'alice@example.com', password: PASSWORD, client: CLIENT });
    await expect(login()).resolves.toMatchObject({ mfaRequired: true });
    expect([(await stored()).statusAt(kit.clock.now()), (await stored()).credentials.lockedUntil]).toEqual(['active', null]);

    // Five wrong codes lock the second step (429 on the right code) and tell the owner, yet the status stays active.
    const outcome = await login();
    if (!outcome.mfaRequired) throw new Error('expected a challenge');
    const wrong = totp.generate(secret, new Date(0));
    for (let i = 0; i < 5; i += 1) {
      await expect(kit.useCases.VerifyMfaLogin.execute({ mfaToken: outcome.mfaToken, proof: { code: wrong }, client: CLIENT })).rejects.toMatchObject({ code: 'INVALID_CREDENTIALS' });
    }
    const again = await login();
    if (!again.mfaRequired) throw new Error('expected a challenge');
    await expect(
      kit.useCases.VerifyMfaLogin.execute({ mfaToken: again.mfaToken, proof: { code: totp.generate(secret, kit.clock.now()) }, client: CLIENT }),
    ).rejects.toMatchObject({ code: 'ACCOUNT_LOCKED' });
    expect(kit.eventTypes()).toContain('auth.account.locked');
    expect([(await stored()).statusAt(kit.clock.now()), (await stored()).credentials.lockedUntil]).toEqual(['active', null]);
  });

  it('the lockout store failing at the second step is no lock: not audited as mfa_locked, the error answers as it is', async () => {
    const kit = await createKit();
    const { secret } = await enrolled(kit);
    const outcome = await kit.useCases.LoginWithPassword.execute({ identifier: 'alice@example.com', password: PASSWORD, client: CLIENT });
    if (!outcome.mfaRequired) throw new Error('expected a challenge');
    const reserve = kit.mfaLockout.reserve.bind(kit.mfaLockout);
    kit.mfaLockout.reserve = () => Promise.reject(new Error('lockout store unreachable'));
    try {
      await expect(
        kit.useCases.VerifyMfaLogin.execute({ mfaToken: outcome.mfaToken, proof: { code: totp.generate(secret, kit.clock.now()) }, client: CLIENT }),
      ).rejects.toThrow('lockout store unreachable');
    } finally {
      kit.mfaLockout.reserve = reserve;
    }
    expect(kit.db.tables.auditEvents.filter((e) => e.reason === 'mfa_locked')).toEqual([]);
  });

  it('support removes MFA: audited with the actor, auth.mfa.disabled carries actor_id, the user is told', async () => {
    const kit = await createKit();
    const { userId } = await enrolled(kit);
    const actor = await anAdmin(kit);
    const user = await kit.useCases.RemoveUserMfa.execute({ actor, userId });
    expect(user.mfaEnabled).toBe(false);
    const entry = kit.db.tables.auditEvents.find((e) => e.type === 'mfa.disabled');
    expect(entry).toMatchObject({ actorId: actor.id, subjectId: userId, outcome: 'success', reason: 'removed_by_admin' });
    const event = kit.db.tables.outbox.find((row) => row.event.type === 'auth.mfa.disabled');
    expect(event?.event.data).toEqual({ user_id: userId, method: 'totp', actor_id: actor.id });
    expect(kit.mailer.inbox('alice@example.com').at(-1)?.text).toContain('our support team removed two-factor authentication');
    // Nothing to remove a second time: no second event.
    await kit.useCases.RemoveUserMfa.execute({ actor, userId });
    expect(kit.db.tables.outbox.filter((row) => row.event.type === 'auth.mfa.disabled')).toHaveLength(1);
    await expect(kit.useCases.RemoveUserMfa.execute({ actor, userId: '00000000-0000-4000-8000-000000000000' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const outcome = await kit.useCases.LoginWithPassword.execute({ identifier: 'alice@example.com', password: PASSWORD, client: CLIENT });
    expect(outcome.mfaRequired).toBe(false);
  });

  it('support removing a set-up never finished: the pending secret goes, audited; no event, no notice', async () => {
    const kit = await createKit();
    const { user, tokens } = await kit.loggedIn();
    await kit.useCases.BeginTotpSetup.execute({ userId: user.id, sessionId: await sidOf(kit, tokens.accessToken), client: CLIENT });
    expect(kit.db.tables.users.get(user.id)?.credentials.byType.totp).toBeDefined();
    const actor = await anAdmin(kit);
    const mails = kit.mailer.inbox('alice@example.com').length;
    await kit.useCases.RemoveUserMfa.execute({ actor, userId: user.id });
    expect(kit.db.tables.users.get(user.id)?.credentials.byType.totp).toBeUndefined();
    const entries = kit.db.tables.auditEvents.filter((e) => e.type === 'mfa.disabled');
    expect(entries).toEqual([expect.objectContaining({ actorId: actor.id, subjectId: user.id, outcome: 'success', reason: 'pending_setup_removed_by_admin' })]);
    expect(kit.db.tables.outbox.filter((row) => row.event.type === 'auth.mfa.disabled')).toHaveLength(0);
    expect(kit.mailer.inbox('alice@example.com')).toHaveLength(mails);
    // Nothing left: a second removal changes nothing and records nothing.
    await kit.useCases.RemoveUserMfa.execute({ actor, userId: user.id });
    expect(kit.db.tables.auditEvents.filter((e) => e.type === 'mfa.disabled')).toHaveLength(1);
  });

  it('turning MFA on ends every other session of the account (mfa_enabled); the one that turned it on stays', async () => {
    const kit = await createKit();
    const { user, tokens: first } = await kit.loggedIn();
    const other = await kit.signIn({ identifier: 'alice@example.com', password: PASSWORD, client: CLIENT });
    const bystander = await kit.loggedIn('bob@example.com');
    const sid = await sidOf(kit, first.accessToken);
    const setup = await kit.useCases.BeginTotpSetup.execute({ userId: user.id, sessionId: sid, client: CLIENT });
    await kit.useCases.EnableTotp.execute({ userId: user.id, sessionId: sid, code: totp.generate(setup.secret, kit.clock.now()), client: CLIENT });
    const otherSid = await sidOf(kit, other.tokens.accessToken);
    const revoked = kit.db.tables.outbox.filter((row) => row.event.type === 'auth.session.revoked').map((row) => row.event.data);
    expect(revoked).toEqual([{ user_id: user.id, session_id: otherSid, reason: 'mfa_enabled' }]);
    await expect(kit.useCases.RefreshSession.execute({ refreshToken: other.tokens.refreshToken, client: CLIENT })).rejects.toMatchObject({ code: 'INVALID_REFRESH_TOKEN' });
    await expect(kit.useCases.RefreshSession.execute({ refreshToken: first.refreshToken, client: CLIENT })).resolves.toBeDefined();
    await expect(kit.useCases.RefreshSession.execute({ refreshToken: bystander.tokens.refreshToken, client: CLIENT })).resolves.toBeDefined();
  });

  it("support: not on the admin's own account (409), not by an admin demoted meanwhile (403); unlock clears the MFA lockout", async () => {
    const kit = await createKit();
    const { userId } = await enrolled(kit);
    const actor = await anAdmin(kit);
    await expect(kit.useCases.RemoveUserMfa.execute({ actor, userId: actor.id })).rejects.toMatchObject({ code: 'CONFLICT', details: { user_id: ['self'] } });
    // The same id in capitals (a path may spell it so; the database matches it either way) is still the actor's own.
    await expect(kit.useCases.RemoveUserMfa.execute({ actor, userId: actor.id.toUpperCase() })).rejects.toMatchObject({ code: 'CONFLICT', details: { user_id: ['self'] } });
    for (let i = 0; i < 5; i += 1) await kit.mfaLockout.recordFailure(userId, kit.clock.now());
    expect((await kit.mfaLockout.reserve(userId, kit.clock.now())).locked).toBe(true);
    await kit.useCases.UnlockUser.execute({ actor, userId });
    expect((await kit.mfaLockout.reserve(userId, kit.clock.now())).locked).toBe(false);
    const second = await anAdmin(kit, 'second@example.com');
    await kit.useCases.UpdateUser.execute({ actor: second, userId: actor.id, roles: ['user'] });
    await expect(kit.useCases.RemoveUserMfa.execute({ actor, userId })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect(kit.db.tables.outbox.filter((row) => row.event.type === 'auth.mfa.disabled')).toHaveLength(0);
  });

  it('neither the secret nor a backup code reaches an event, an audit entry, a log line or an email', async () => {
    const kit = await createKit();
    const { secret, backupCodes, userId } = await enrolled(kit);
    const outcome = await kit.useCases.LoginWithPassword.execute({ identifier: 'alice@example.com', password: PASSWORD, client: CLIENT });
    if (!outcome.mfaRequired) throw new Error('expected a challenge');
    await kit.useCases.VerifyMfaLogin.execute({ mfaToken: outcome.mfaToken, proof: { backupCode: backupCodes[0]! }, client: CLIENT });
    await kit.useCases.RemoveUserMfa.execute({ actor: await anAdmin(kit), userId });
    const everything = JSON.stringify([kit.db.tables.outbox, kit.db.tables.auditEvents, kit.senderLogs, kit.mailer.inbox('alice@example.com')]);
    for (const needle of [secret, ...backupCodes, ...backupCodes.map((c: string) => c.replace(/-/g, '')), outcome.mfaToken]) expect(everything).not.toContain(needle);
    expect(kit.mailer.inbox('alice@example.com').map((m) => m.subject)).toContain('A backup code was used to sign in');
  });

  /**
   * New backup codes are made only if the set on the locked row is still the one the request read: a regeneration
   * committing while this one's password is checked wins, and this one changes nothing (409 CONFLICT), so no caller
   * holds a set that a later commit voided; MFA turned off meanwhile is said as such.
   */
  it('regenerating backup codes: another regeneration committed during the password check wins (CONFLICT); MFA turned off meanwhile says so', async () => {
    const hasher = new VerifyHook();
    const kit = await createKit({}, hasher);
    const { userId, sessionId, secret } = await enrolled(kit);
    const regenerate = () => kit.useCases.RegenerateRecoveryCodes.execute({ userId, sessionId, password: PASSWORD, client: CLIENT });
    const storedCodes = () => kit.db.tables.users.get(userId)?.credentials.byType.recovery_codes;

    let winner: string[] = [];
    hasher.during = async () => {
      winner = (await regenerate()).backupCodes;
    };
    await expect(regenerate()).rejects.toMatchObject({ code: 'CONFLICT', message: expect.stringContaining('replaced the backup codes at the same time') });
    expect(winner).toHaveLength(10);
    const afterRace = storedCodes();
    // The winner's set is the one stored: its first code signs in.
    const challenge = await kit.useCases.LoginWithPassword.execute({ identifier: 'alice@example.com', password: PASSWORD, client: CLIENT });
    if (!challenge.mfaRequired) throw new Error('expected a challenge');
    await kit.useCases.VerifyMfaLogin.execute({ mfaToken: challenge.mfaToken, proof: { backupCode: winner[0]! }, client: CLIENT });
    expect(storedCodes()).not.toEqual(afterRace); // spent, so the set shrank

    hasher.during = async () => {
      await kit.useCases.DisableTotp.execute({ userId, sessionId, password: PASSWORD, proof: { code: totp.generate(secret, kit.clock.now()) }, client: CLIENT });
    };
    await expect(regenerate()).rejects.toMatchObject({ code: 'CONFLICT', message: 'Two-factor authentication is not enabled.' });
    expect(storedCodes()).toBeUndefined();
  });

  /**
   * `reseal` (an ENCRYPTION_KEY change) writes the same TOTP secret sealed anew. Landing between a code's check and
   * the locked row, it made the right code a wrong one (the sealed values differed) until 2026-12-04.
   */
  it('a TOTP secret sealed anew between the check and the spend still takes the code; a secret set up again does not', async () => {
    const kit = await createKit();
    const { userId, secret } = await enrolled(kit);
    const factor = kit.resolve(SecondFactor);
    const user = async () => (await kit.repos.users.findById(userId))!;
    const resealStored = () => {
      const state = structuredClone(kit.db.tables.users.get(userId)!);
      const totpState = state.credentials.byType.totp!;
      state.credentials.byType.totp = { ...totpState, sealedSecret: kit.box.seal(kit.box.open(totpState.sealedSecret, SEALED.totpSecret(userId)), SEALED.totpSecret(userId)) };
      kit.overwriteUser(state);
    };
    const proof = await factor.prepare(await user(), { code: totp.generate(secret, kit.clock.now()) }, kit.clock.now());
    if (typeof proof === 'string') throw new Error(`refused: ${proof}`);
    resealStored();
    expect((await user()).credentials.get('totp')?.sealedSecret).not.toBe(proof.method === 'totp' ? proof.sealedSecret : '');
    expect(factor.spend(await user(), proof, kit.clock.now())).toBe('spent');
    // Another secret in the row (set up again): the code proved the old one.
    kit.clock.advance(30);
    const next = await factor.prepare(await user(), { code: totp.generate(secret, kit.clock.now()) }, kit.clock.now());
    if (typeof next === 'string') throw new Error(`refused: ${next}`);
    const state = structuredClone(kit.db.tables.users.get(userId)!);
    state.credentials.byType.totp = { ...state.credentials.byType.totp!, sealedSecret: kit.box.seal('JBSWY3DPEHPK3PXP', SEALED.totpSecret(userId)) };
    kit.overwriteUser(state);
    expect(factor.spend(await user(), next, kit.clock.now())).toBe('wrong');
  });

  it('recovery codes under a keyring: a code hashed under a previous key is a candidate after the current one', () => {
    const [oldKey, newKey] = [randomBytes(32), randomBytes(32)];
    const before = new HmacRecoveryCodes(oldKey);
    const ring = new HmacRecoveryCodes(newKey, [oldKey]);
    const [code] = before.generate(1) as [string];
    expect(ring.candidates(code)).toEqual([new HmacRecoveryCodes(newKey).hash(code), before.hash(code)]);
    expect(ring.hash(code)).toBe(new HmacRecoveryCodes(newKey).hash(code));
    expect(ring.candidates('not a code')).toBeNull();
  });

  it('recovery codes: 60 bits in a readable form, hashed under a key (another key, another hash), typed loosely', () => {
    return createKit().then((kit) => {
      const codes = kit.recoveryCodes.generate(10);
      expect(new Set(codes).size).toBe(10);
      const code = codes[0]!;
      expect(code).toMatch(/^[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}$/);
      const hash = kit.recoveryCodes.hash(code);
      expect(hash).not.toContain(code.replace(/-/g, ''));
      expect(kit.recoveryCodes.hash(` ${code.toUpperCase().replace(/-/g, ' ')} `)).toBe(hash);
      expect(kit.recoveryCodes.hash(code.replace(/0/g, 'o').replace(/1/g, 'l'))).toBe(hash);
      expect(kit.recoveryCodes.hash('too-short')).toBeNull();
      expect(kit.recoveryCodes.hash('uuuu-uuuu-uuuu')).toBeNull();
      expect(kit.resolve(PORTS.RecoveryCodes).hash(code)).toBe(hash);
      return createKit().then((other) => expect(other.recoveryCodes.hash(code)).not.toBe(hash));
    });
  });
});

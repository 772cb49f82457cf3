import { randomBytes, randomUUID } from 'node:crypto';
import { Session } from '@domain/session/session';
import { SESSION_LIMIT_BATCH } from '@application/session/session-limit';
import { CLIENT, PASSWORD, createKit } from '../support/test-kit';

type Kit = Awaited<ReturnType<typeof createKit>>;

/**
 * SESSION_MAX_PER_USER (a review, 2026-12-07): nothing bounded an account's live sessions, and its sessions list, a
 * global logout or an admin's view loaded them all. A sign-in past the limit ends the oldest, after its answer.
 */
describe('SessionLimit', () => {
  const login = async (kit: Kit, email: string) => {
    const outcome = await kit.signIn({ identifier: email, password: PASSWORD, client: CLIENT });
    if (outcome.mfaRequired) throw new Error('no second factor here');
    return outcome.tokens;
  };
  const live = async (kit: Kit, userId: string) => kit.repos.sessions.findActiveByUser(userId, kit.clock.now());

  it('a sign-in past the limit ends the oldest sessions: their tokens stop working, the newest go on', async () => {
    const kit = await createKit({ maxSessionsPerUser: 3 });
    const user = await kit.registerVerified('ada@example.com');
    const signedIn = [];
    for (let i = 0; i < 5; i += 1) {
      kit.clock.advance(1);
      signedIn.push(await login(kit, 'ada@example.com'));
      await kit.settle();
    }
    const kept = await live(kit, user.id);
    expect(kept).toHaveLength(3);
    // The two oldest ended, reason session_limit, each with its event; one audit entry per enforcement.
    const ended = kit.db.tables.outbox.filter((r) => r.event.type === 'auth.session.revoked').map((r) => r.event.data);
    expect(ended).toHaveLength(2);
    expect(ended.every((data) => data['reason'] === 'session_limit' && data['user_id'] === user.id)).toBe(true);
    expect(kit.db.tables.auditEvents.filter((e) => e.type === 'session.revoked').map((e) => e.reason)).toEqual(['session_limit:1', 'session_limit:1']);
    for (const tokens of signedIn.slice(0, 2)) {
      await expect(kit.useCases.ValidateAccessToken.execute({ token: tokens.accessToken })).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
      await expect(kit.useCases.RefreshSession.execute({ refreshToken: tokens.refreshToken })).rejects.toMatchObject({ code: 'INVALID_REFRESH_TOKEN' });
    }
    for (const tokens of signedIn.slice(2)) {
      await expect(kit.useCases.ValidateAccessToken.execute({ token: tokens.accessToken })).resolves.toBeDefined();
    }
    // Another account is not touched.
    await kit.registerVerified('bob@example.com');
    await login(kit, 'bob@example.com');
    await kit.settle();
    expect(await kit.useCases.SessionLimit.enforce(user.id)).toBe(0);
  });

  it('bursts of sign-ins at once: once their work is done the account holds exactly the limit, the newest (5 rounds)', async () => {
    // Bursts of 5: the lockout admits at most its threshold (5) of one identifier's attempts in flight.
    const kit = await createKit({ maxSessionsPerUser: 2 });
    const user = await kit.registerVerified('eve@example.com');
    for (let round = 0; round < 5; round += 1) {
      kit.clock.advance(1);
      const burst = await Promise.all(Array.from({ length: 5 }, () => login(kit, 'eve@example.com')));
      await kit.settle();
      const kept = await live(kit, user.id);
      expect(kept).toHaveLength(2);
      // Every kept session is one of this burst's (they are the newest).
      const claims = await Promise.all(burst.map(async (t) => kit.tokens.verify(t.accessToken)));
      const burstSids = new Set(claims.map((c) => ('sid' in c ? c.sid : null)));
      for (const session of kept) expect(burstSids.has(session.id)).toBe(true);
    }
  });

  it(`an account far past the limit is trimmed in transactions of at most ${SESSION_LIMIT_BATCH} sessions, oldest first; one run at a time`, async () => {
    const kit = await createKit({ maxSessionsPerUser: 5 });
    const user = await kit.registerVerified('many@example.com');
    const lifetimes = kit.issuer.lifetimes;
    // 245 sessions from before the limit, a second apart (written as a store holds them, not through sign-ins).
    const started: string[] = [];
    for (let i = 0; i < 245; i += 1) {
      kit.clock.advance(1);
      const id = randomUUID();
      started.push(id);
      const session = Session.start({ id, userId: user.id, refreshTokenHash: randomBytes(32).toString('base64url'), sealedRefreshToken: 'sealed', amr: ['pwd'], ip: null, userAgent: null }, kit.clock.now(), lifetimes);
      await kit.uow.run(async (repos) => repos.sessions.add(session));
    }
    const [ended, concurrent] = await Promise.all([kit.useCases.SessionLimit.enforce(user.id), kit.useCases.SessionLimit.enforce(user.id)]);
    expect({ ended, concurrent }).toEqual({ ended: 240, concurrent: 0 });
    expect((await live(kit, user.id)).map((s) => s.id)).toEqual(started.slice(-5).reverse());
    expect(kit.db.tables.auditEvents.filter((e) => e.type === 'session.revoked').map((e) => e.reason)).toEqual(['session_limit:100', 'session_limit:100', 'session_limit:40']);
    expect(kit.db.tables.outbox.filter((r) => r.event.type === 'auth.session.revoked')).toHaveLength(240);
    expect(await kit.useCases.SessionLimit.enforce(user.id)).toBe(0);
  });

  it('the limit holds for a user with many sessions from before it was set: the next sign-in trims them', async () => {
    const kit = await createKit({ maxSessionsPerUser: 50 });
    const user = await kit.registerVerified('old@example.com');
    for (let i = 0; i < 8; i += 1) {
      kit.clock.advance(1);
      await login(kit, 'old@example.com');
    }
    await kit.settle();
    expect(await live(kit, user.id)).toHaveLength(8);
    (kit.settings as { maxSessionsPerUser: number }).maxSessionsPerUser = 2;
    kit.clock.advance(1);
    const newest = await login(kit, 'old@example.com');
    await kit.settle();
    const kept = await live(kit, user.id);
    expect(kept).toHaveLength(2);
    const claims = await kit.tokens.verify(newest.accessToken);
    expect(kept.map((s) => s.id)).toContain('sid' in claims ? claims.sid : '');
  });
});

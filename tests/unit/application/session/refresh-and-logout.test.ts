import { PORTS } from '@application/ports/tokens';
import { CLIENT, createKit } from '../support/test-kit';

describe('RefreshSession', () => {
  it('rotates: the new pair works and the session slides', async () => {
    const kit = await createKit();
    const { tokens } = await kit.loggedIn();
    kit.clock.advance(60);
    const next = await kit.useCases.RefreshSession.execute({ refreshToken: tokens.refreshToken });
    expect(next.refreshToken).not.toBe(tokens.refreshToken);
    expect(next.refreshTokenExpiresAt.getTime()).toBeGreaterThan(tokens.refreshTokenExpiresAt.getTime());
    await expect(kit.useCases.ValidateAccessToken.execute({ token: next.accessToken })).resolves.toBeDefined();
    await expect(kit.useCases.RefreshSession.execute({ refreshToken: next.refreshToken })).resolves.toBeDefined();
  });

  it('hands the same new token to a concurrent refresh inside the grace window', async () => {
    const kit = await createKit();
    const { tokens } = await kit.loggedIn();
    const results = await Promise.all(
      Array.from({ length: 20 }, () => kit.useCases.RefreshSession.execute({ refreshToken: tokens.refreshToken })),
    );
    expect(new Set(results.map((r) => r.refreshToken)).size).toBe(1);
    const sessions = [...kit.db.tables.sessions.values()].filter((s) => s.revokedAt === null);
    expect(sessions).toHaveLength(1);
    await expect(kit.useCases.RefreshSession.execute({ refreshToken: results[0]!.refreshToken })).resolves.toBeDefined();
  });

  it('keeps the current token at rest so that ENCRYPTION_KEY alone opens nothing usable: only the token it replaced does (a review of stop 62)', async () => {
    const kit = await createKit();
    const { tokens } = await kit.loggedIn();
    const [state] = [...kit.db.tables.sessions.values()];
    const context = `refresh_token:${state!.id}`;
    // Before the first rotation there is nothing to replay.
    expect(kit.box.open(state!.sealedRefreshToken, context)).toBe('');
    const next = await kit.useCases.RefreshSession.execute({ refreshToken: tokens.refreshToken });
    const sealed = kit.db.tables.sessions.get(state!.id)!.sealedRefreshToken;
    // Someone with a copy of the database and ENCRYPTION_KEY: the outer seal opens, the token is not in it.
    const outer = kit.box.open(sealed, context);
    expect(outer).not.toContain(next.refreshToken);
    expect(outer).toMatch(/^u1\./);
    expect(() => kit.box.openUnder(sealed, context, next.refreshToken)).toThrow(/could not be opened/);
    expect(kit.box.openUnder(sealed, context, tokens.refreshToken)).toBe(next.refreshToken);
    // A second rotation inside the grace window: the replay of the token it replaced still gets the newest token.
    const third = await kit.useCases.RefreshSession.execute({ refreshToken: next.refreshToken });
    await expect(kit.useCases.RefreshSession.execute({ refreshToken: next.refreshToken })).resolves.toMatchObject({ refreshToken: third.refreshToken });
  });

  it('the locked path seals its rotation under the presented token too: a replay inside the grace window gets the same token', async () => {
    const kit = await createKit();
    const { tokens } = await kit.loggedIn();
    // The fast path's compare-and-set loses once (as to a concurrent change): the locked path rotates.
    const sessions = kit.container.get(PORTS.SessionRepository);
    const lost = jest.spyOn(sessions, 'saveIfCurrent').mockResolvedValueOnce(false);
    const next = await kit.useCases.RefreshSession.execute({ refreshToken: tokens.refreshToken });
    expect(lost).toHaveBeenCalledTimes(1);
    lost.mockRestore();
    await expect(kit.useCases.RefreshSession.execute({ refreshToken: tokens.refreshToken })).resolves.toMatchObject({ refreshToken: next.refreshToken });
  });

  it('a session begun before stop 62 (its token under ENCRYPTION_KEY alone): its first rotation keeps nothing to replay, which ends the chain a copy of then could follow', async () => {
    const kit = await createKit();
    const { tokens } = await kit.loggedIn();
    const [state] = [...kit.db.tables.sessions.values()];
    const context = `refresh_token:${state!.id}`;
    state!.sealedRefreshToken = kit.box.seal(tokens.refreshToken, context); // as the code before stop 62 stored it
    const next = await kit.useCases.RefreshSession.execute({ refreshToken: tokens.refreshToken });
    expect(kit.box.open(kit.db.tables.sessions.get(state!.id)!.sealedRefreshToken, context)).toBe('');
    // The replay inside the grace window is refused, once; the session lives on and the new token works.
    await expect(kit.useCases.RefreshSession.execute({ refreshToken: tokens.refreshToken })).rejects.toMatchObject({ code: 'INVALID_REFRESH_TOKEN' });
    const third = await kit.useCases.RefreshSession.execute({ refreshToken: next.refreshToken });
    expect(kit.box.openUnder(kit.db.tables.sessions.get(state!.id)!.sealedRefreshToken, context, next.refreshToken)).toBe(third.refreshToken);
    await expect(kit.useCases.RefreshSession.execute({ refreshToken: next.refreshToken })).resolves.toMatchObject({ refreshToken: third.refreshToken });
  });

  it('refuses the current and the just-replaced token of an active session whose account is suspended', async () => {
    const kit = await createKit();
    const { tokens } = await kit.loggedIn();
    const next = await kit.useCases.RefreshSession.execute({ refreshToken: tokens.refreshToken });
    // The account row alone (no session revoked with it): the refresh itself must look at the account.
    for (const state of kit.db.tables.users.values()) state.status = 'suspended';
    for (const token of [next.refreshToken, tokens.refreshToken]) {
      await expect(kit.useCases.RefreshSession.execute({ refreshToken: token })).rejects.toMatchObject({ code: 'INVALID_REFRESH_TOKEN' });
    }
    expect([...kit.db.tables.sessions.values()].map((s) => s.revokedAt)).toEqual([null]);
  });

  it('dates a rotation when its rows are read, not when the request began: a replay right after a slow rotation is inside the grace window (outside review, 2026-12-02)', async () => {
    const kit = await createKit();
    const { tokens } = await kit.loggedIn();
    const sessions = kit.resolve(PORTS.SessionRepository);
    const read = sessions.findByRefreshTokenHash.bind(sessions);
    // A database that takes 12 s to answer the first read (its deadline is 10 s per statement, two statements).
    const slow = jest.spyOn(sessions, 'findByRefreshTokenHash').mockImplementationOnce(async (hash) => {
      kit.clock.advance(12);
      return read(hash);
    });
    const rotated = await kit.useCases.RefreshSession.execute({ refreshToken: tokens.refreshToken });
    slow.mockRestore();
    kit.clock.advance(0.5); // the other tab presents the token just replaced, half a second after it was
    const replay = await kit.useCases.RefreshSession.execute({ refreshToken: tokens.refreshToken });
    expect(replay.refreshToken).toBe(rotated.refreshToken);
    expect([...kit.db.tables.sessions.values()].map((s) => s.revokedAt)).toEqual([null]);
  });

  it("does not bring back a session that expired just before a password reset ended the others, when a refresh read it alive before and writes after (a review of stop 60)", async () => {
    const kit = await createKit();
    const { tokens } = await kit.loggedIn();
    // Just before the session's expiry, the owner asks for a reset (someone has the password).
    kit.clock.set(new Date(tokens.refreshTokenExpiresAt.getTime() - 1000));
    await kit.useCases.RequestPasswordReset.execute({ email: 'alice@example.com', client: CLIENT });
    await kit.settle();
    const link = kit.lastToken('alice@example.com');
    const sessions = kit.resolve(PORTS.SessionRepository);
    const write = sessions.saveIfCurrent.bind(sessions);
    // A refresh reads the session, alive, and signs; the reset lands 2 s later, after the expiry: it revokes the live
    // sessions only, and this one has just expired; then the refresh writes.
    const racing = jest.spyOn(sessions, 'saveIfCurrent').mockImplementationOnce(async (session, expectedHash, liveAt) => {
      kit.clock.advance(2);
      await kit.useCases.ConfirmPasswordReset.execute({ token: link, newPassword: 'a brand new passphrase', client: CLIENT });
      return write(session, expectedHash, liveAt);
    });
    await expect(kit.useCases.RefreshSession.execute({ refreshToken: tokens.refreshToken })).rejects.toMatchObject({ code: 'INVALID_REFRESH_TOKEN' });
    expect(racing).toHaveBeenCalledTimes(1);
    racing.mockRestore();
    // Nothing written: the session keeps its expiry, now past, and its refresh token stays refused.
    const [session] = [...kit.db.tables.sessions.values()];
    expect(session!.expiresAt.getTime()).toBe(tokens.refreshTokenExpiresAt.getTime());
    await expect(kit.useCases.RefreshSession.execute({ refreshToken: tokens.refreshToken })).rejects.toMatchObject({ code: 'INVALID_REFRESH_TOKEN' });
  });

  it('revokes the session when a replaced token comes back after the grace window', async () => {
    const kit = await createKit();
    const { tokens } = await kit.loggedIn();
    const next = await kit.useCases.RefreshSession.execute({ refreshToken: tokens.refreshToken });
    kit.clock.advance(11);
    await expect(kit.useCases.RefreshSession.execute({ refreshToken: tokens.refreshToken })).rejects.toMatchObject({
      code: 'INVALID_REFRESH_TOKEN',
    });
    await expect(kit.useCases.RefreshSession.execute({ refreshToken: next.refreshToken })).rejects.toMatchObject({
      code: 'INVALID_REFRESH_TOKEN',
    });
    await expect(kit.useCases.ValidateAccessToken.execute({ token: next.accessToken })).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
    expect(kit.eventTypes()).toContain('auth.session.refresh_reuse_detected');
  });

  it('detects reuse of a token two rotations old', async () => {
    const kit = await createKit();
    const { tokens } = await kit.loggedIn();
    const second = await kit.useCases.RefreshSession.execute({ refreshToken: tokens.refreshToken });
    kit.clock.advance(1);
    const third = await kit.useCases.RefreshSession.execute({ refreshToken: second.refreshToken });
    await expect(kit.useCases.RefreshSession.execute({ refreshToken: tokens.refreshToken })).rejects.toMatchObject({
      code: 'INVALID_REFRESH_TOKEN',
    });
    await expect(kit.useCases.RefreshSession.execute({ refreshToken: third.refreshToken })).rejects.toMatchObject({
      code: 'INVALID_REFRESH_TOKEN',
    });
  });

  it('refuses unknown tokens, expired sessions and suspended accounts', async () => {
    const kit = await createKit();
    await expect(kit.useCases.RefreshSession.execute({ refreshToken: 'nope' })).rejects.toMatchObject({ code: 'INVALID_REFRESH_TOKEN' });
    const { tokens, user } = await kit.loggedIn();
    const stored = (await kit.repos.users.findById(user.id))!;
    kit.overwriteUser({ ...stored.toState(), status: 'suspended' });
    await expect(kit.useCases.RefreshSession.execute({ refreshToken: tokens.refreshToken })).rejects.toMatchObject({
      code: 'INVALID_REFRESH_TOKEN',
    });
    const other = await kit.loggedIn('bob@example.com');
    kit.clock.advance(30 * 86400 + 1);
    await expect(kit.useCases.RefreshSession.execute({ refreshToken: other.tokens.refreshToken })).rejects.toMatchObject({
      code: 'INVALID_REFRESH_TOKEN',
    });
  });
});

describe('access tokens end with their session', () => {
  /**
   * Outside review, 2026-12-03: with SESSION_MAX_LIFETIME=1m a login answered `expires_in: 900`; a service verifying
   * offline (JWKS) would have accepted the token 14 minutes after its session had ended. The token's `exp` is now
   * the earlier of its lifetime and the session's expiry, at login and at every refresh.
   */
  it("a token's exp is never after its session's expiry, at login and at refresh", async () => {
    const kit = await createKit({ sessionMaxLifetimeSeconds: 600 });
    const verifier = kit.resolve(PORTS.TokenVerifier);
    const { tokens } = await kit.loggedIn();
    const login = await verifier.verify(tokens.accessToken);
    expect([tokens.accessTokenExpiresIn, login.exp * 1000]).toEqual([600, tokens.refreshTokenExpiresAt.getTime()]);
    expect(tokens.accessTokenExpiresAt.getTime()).toBe(tokens.refreshTokenExpiresAt.getTime());
    kit.clock.advance(420);
    const next = await kit.useCases.RefreshSession.execute({ refreshToken: tokens.refreshToken });
    expect([next.accessTokenExpiresIn, (await verifier.verify(next.accessToken)).exp * 1000]).toEqual([180, next.refreshTokenExpiresAt.getTime()]);
    // Far from the end, the lifetime is the token's own (15 minutes).
    const long = await createKit();
    const far = (await long.loggedIn()).tokens;
    expect(far.accessTokenExpiresIn).toBe(900);
    expect(far.refreshTokenExpiresAt.getTime() - far.accessTokenExpiresAt.getTime()).toBeGreaterThan(86_400_000);
  });
});

describe('Logout and ValidateAccessToken', () => {
  async function threeSessions() {
    const kit = await createKit();
    const a = await kit.loggedIn();
    const b = await kit.signIn({ identifier: 'alice@example.com', password: 'correct horse battery staple', client: CLIENT });
    const c = await kit.signIn({ identifier: 'alice@example.com', password: 'correct horse battery staple', client: CLIENT });
    const principal = await kit.useCases.ValidateAccessToken.execute({ token: a.tokens.accessToken });
    return { kit, a, b, c, userId: a.user.id, sid: principal.claims.sid };
  }

  it.each([
    ['local', [false, true, true]],
    ['others', [true, false, false]],
    ['global', [false, false, false]],
  ] as const)('scope %s revokes the right sessions at once', async (scope, alive) => {
    const { kit, a, b, c, userId, sid } = await threeSessions();
    await kit.useCases.Logout.execute({ userId, sessionId: sid, scope });
    const outcomes = await Promise.all(
      [a, b, c].map((s) => kit.useCases.ValidateAccessToken.execute({ token: s.tokens.accessToken }).then(() => true, () => false)),
    );
    expect(outcomes).toEqual(alive);
    const refreshes = await Promise.all(
      [a, b, c].map((s) => kit.useCases.RefreshSession.execute({ refreshToken: s.tokens.refreshToken }).then(() => true, () => false)),
    );
    expect(refreshes).toEqual(alive);
    expect(kit.eventTypes().filter((t) => t === 'auth.session.revoked')).toHaveLength(alive.filter((x) => !x).length);
  });

  it('rejects an expired access token and reads the current user', async () => {
    const kit = await createKit();
    const { tokens, user } = await kit.loggedIn();
    await expect(kit.useCases.GetCurrentUser.execute({ userId: user.id })).resolves.toMatchObject({ email: 'alice@example.com' });
    kit.clock.advance(15 * 60 + 61);
    await expect(kit.useCases.ValidateAccessToken.execute({ token: tokens.accessToken })).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
    await expect(kit.useCases.GetCurrentUser.execute({ userId: '00000000-0000-4000-8000-000000000000' })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });
});

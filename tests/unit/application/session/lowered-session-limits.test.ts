import { CLIENT, createKit } from '../support/test-kit';

/**
 * A review of stop 51: SESSION_MAX_LIFETIME and REFRESH_TOKEN_TTL lowered and the service restarted, a session begun
 * before went on refreshing under its old 90-day limit (30 refreshes over 6.5 hours with a 1-hour maximum). The limits
 * configured now count at every refresh, on the fast path and the locked one alike.
 */
describe('lowered session limits apply to existing sessions at their next refresh', () => {
  it('a session begun under 90 days is refused once older than a lowered 1-hour maximum, though kept refreshed', async () => {
    const kit = await createKit();
    const { tokens } = await kit.loggedIn('alice@example.com');
    // The operator lowers the limits (what a restart with new settings does).
    Object.assign(kit.settings, { sessionMaxLifetimeSeconds: 3600, refreshTokenTtlSeconds: 600 });
    let refreshToken = tokens.refreshToken;
    for (let minute = 9; minute < 60; minute += 9) {
      kit.clock.advance(9 * 60);
      refreshToken = (await kit.useCases.RefreshSession.execute({ refreshToken, client: CLIENT })).refreshToken;
    }
    kit.clock.advance(9 * 60); // 63 minutes after the sign-in
    await expect(kit.useCases.RefreshSession.execute({ refreshToken, client: CLIENT })).rejects.toMatchObject({ code: 'INVALID_REFRESH_TOKEN' });
  });

  it('a session begun under a 30-day idle limit is refused after 11 minutes unused under a lowered 10-minute one', async () => {
    const kit = await createKit();
    const { tokens } = await kit.loggedIn('alice@example.com');
    Object.assign(kit.settings, { refreshTokenTtlSeconds: 600 });
    kit.clock.advance(11 * 60);
    await expect(kit.useCases.RefreshSession.execute({ refreshToken: tokens.refreshToken, client: CLIENT })).rejects.toMatchObject({ code: 'INVALID_REFRESH_TOKEN' });
  });

  /**
   * A review of stop 55: introspection and the session lists judged a session by its stored expiry, so a refresh token
   * /auth/refresh refused under the lowered limits still introspected as active (with its old `exp`) and its session
   * was still listed as live, for up to 30 days more.
   */
  describe('introspection and the session lists judge by the limits configured now, as refresh does', () => {
    it('a refresh token unused past a lowered idle limit is inactive, and its session no longer listed', async () => {
      const kit = await createKit();
      const { tokens, userId, sessionId } = await kit.signedInAs('alice@example.com');
      const introspect = () => kit.useCases.IntrospectToken.execute({ token: tokens.refreshToken });
      expect(await introspect()).toMatchObject({ active: true, kind: 'refresh', sessionId });
      Object.assign(kit.settings, { refreshTokenTtlSeconds: 600 });
      kit.clock.advance(9 * 60);
      // Still within the lowered limit: active, and its end is the lowered one, not the stored 30 days.
      const tenMinutesAfterSignIn = kit.clock.now().getTime() + 60_000;
      expect(await introspect()).toMatchObject({ active: true, expiresAt: new Date(tenMinutesAfterSignIn) });
      const listed = await kit.useCases.ListSessions.execute({ userId, currentSessionId: sessionId });
      expect(listed.map((s) => [s.session.id, s.expiresAt.getTime()])).toEqual([[sessionId, tenMinutesAfterSignIn]]);
      kit.clock.advance(2 * 60);
      await expect(kit.useCases.RefreshSession.execute({ refreshToken: tokens.refreshToken, client: CLIENT })).rejects.toMatchObject({ code: 'INVALID_REFRESH_TOKEN' });
      expect(await introspect()).toEqual({ active: false });
      expect(await kit.useCases.ListSessions.execute({ userId, currentSessionId: sessionId })).toEqual([]);
      expect((await kit.useCases.GetUserDetails.execute({ userId })).sessions).toEqual([]);
    });

    it('a session older than a lowered maximum is inactive at once, though far inside its idle limit; a younger one stays live', async () => {
      const kit = await createKit();
      const old = await kit.signedInAs('alice@example.com');
      kit.clock.advance(50 * 60);
      const young = await kit.signedInAs('bob@example.com');
      const youngEnds = kit.clock.now().getTime() + 3600_000;
      Object.assign(kit.settings, { sessionMaxLifetimeSeconds: 3600 });
      kit.clock.advance(11 * 60); // 61 minutes after alice's sign-in, 11 after bob's
      expect(await kit.useCases.IntrospectToken.execute({ token: old.tokens.refreshToken })).toEqual({ active: false });
      expect(await kit.useCases.ListSessions.execute({ userId: old.userId, currentSessionId: old.sessionId })).toEqual([]);
      expect(await kit.useCases.IntrospectToken.execute({ token: young.tokens.refreshToken })).toMatchObject({
        active: true,
        sessionId: young.sessionId,
        expiresAt: new Date(youngEnds),
      });
      const details = await kit.useCases.GetUserDetails.execute({ userId: young.userId });
      expect(details.sessions.map((s) => [s.session.id, s.expiresAt.getTime()])).toEqual([[young.sessionId, youngEnds]]);
    });
  });
});

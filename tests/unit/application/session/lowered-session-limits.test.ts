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
});

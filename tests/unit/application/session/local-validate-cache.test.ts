import type { VerifiedUserAccessClaims } from '@application/ports/access-tokens';
import type { AuthStateCache } from '@application/ports/auth-state-cache';
import { StateCacheInvalidation } from '@application/session/state-cache-invalidation';
import { InMemoryUnitOfWork } from '@infrastructure/persistence/memory/in-memory-unit-of-work';
import { CLIENT, PASSWORD, createKit } from '../support/test-kit';

type Kit = Awaited<ReturnType<typeof createKit>>;

const sid = (kit: Kit, accessToken: string) => kit.tokens.verify(accessToken).then((c) => (c as VerifiedUserAccessClaims).sid);

/** Validates until both the session and the user are in the local cache, and proves that no read is made then. */
async function warmLocally(kit: Kit, accessToken: string) {
  const validate = () => kit.useCases.ValidateAccessToken.execute({ token: accessToken });
  const { user, claims } = await validate();
  expect(kit.localCache.session(claims.sid)).not.toBeNull();
  expect(kit.localCache.user(user.id)).not.toBeNull();
  return { user, claims, validate };
}

describe('the local validate cache (first tier) behind ValidateAccessToken', () => {
  it('serves a hit without reading the database or the shared cache', async () => {
    const kit = await createKit();
    const { tokens } = await kit.loggedIn();
    const { user, claims, validate } = await warmLocally(kit, tokens.accessToken);
    const row = kit.db.tables.users.get(user.id)!;
    kit.db.tables.users.delete(user.id);
    kit.db.tables.sessions.delete(claims.sid);
    await kit.sessionCache.invalidate({ revoked: [], changed: [claims.sid] });
    await expect(validate()).resolves.toMatchObject({ user: { id: user.id } });
    kit.db.tables.users.set(user.id, row);
  });

  it('every committed change to the session or the account reaches it at once', async () => {
    const kit = await createKit();
    const admin = await kit.anAdmin('root@example.com');

    // Profile: the principal's user is the account as it is now.
    const alice = await kit.loggedIn('alice@example.com');
    let warmed = await warmLocally(kit, alice.tokens.accessToken);
    await kit.useCases.UpdateProfile.execute({ userId: alice.user.id, sessionId: warmed.claims.sid, firstName: 'Alicia', client: CLIENT });
    await expect(warmed.validate()).resolves.toMatchObject({ user: { id: alice.user.id } });
    expect((await warmed.validate()).user.toState().firstName).toBe('Alicia');

    // Role change: a demotion or promotion decides the next request.
    await kit.useCases.UpdateUser.execute({ actor: admin, userId: alice.user.id, roles: ['user', 'admin'] });
    expect((await warmed.validate()).user.roles).toEqual(['user', 'admin']);
    await kit.useCases.UpdateUser.execute({ actor: admin, userId: alice.user.id, roles: ['user'] });
    expect((await warmed.validate()).user.roles).toEqual(['user']);

    // Suspension.
    await warmLocally(kit, alice.tokens.accessToken);
    await kit.useCases.UpdateUser.execute({ actor: admin, userId: alice.user.id, status: 'suspended' });
    await expect(warmed.validate()).rejects.toMatchObject({ code: 'INVALID_TOKEN' });

    // Logout.
    const bob = await kit.loggedIn('bob@example.com');
    warmed = await warmLocally(kit, bob.tokens.accessToken);
    await kit.useCases.Logout.execute({ userId: bob.user.id, sessionId: warmed.claims.sid, scope: 'local', client: CLIENT });
    await expect(warmed.validate()).rejects.toMatchObject({ code: 'INVALID_TOKEN' });

    // Password change (revokes the other sessions).
    const carol = await kit.loggedIn('carol@example.com');
    const other = await kit.signIn({ identifier: 'carol@example.com', password: PASSWORD, client: CLIENT });
    const otherWarm = await warmLocally(kit, other.tokens.accessToken);
    await kit.useCases.ChangePassword.execute({
      userId: carol.user.id,
      sessionId: await sid(kit, carol.tokens.accessToken),
      currentPassword: PASSWORD,
      newPassword: 'another long enough passphrase',
      client: CLIENT,
    });
    await expect(otherWarm.validate()).rejects.toMatchObject({ code: 'INVALID_TOKEN' });

    // Account deletion by an admin.
    const dave = await kit.loggedIn('dave@example.com');
    warmed = await warmLocally(kit, dave.tokens.accessToken);
    await kit.useCases.DeleteUser.execute({ actor: admin, userId: dave.user.id });
    await expect(warmed.validate()).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
  });

  it('validations in flight while a logout commits never put the live session back (bursts over rounds)', async () => {
    const kit = await createKit();
    for (let round = 0; round < 10; round += 1) {
      const { tokens, user } = await kit.loggedIn(`race-${round}@example.com`);
      const id = await sid(kit, tokens.accessToken);
      const validate = () => kit.useCases.ValidateAccessToken.execute({ token: tokens.accessToken }).then(() => 'ok', (e: { code?: string }) => e.code);
      const burst = Array.from({ length: 20 }, validate);
      const logout = kit.useCases.Logout.execute({ userId: user.id, sessionId: id, scope: 'local', client: CLIENT });
      const more = Array.from({ length: 20 }, validate);
      await Promise.all([...burst, logout, ...more]);
      expect(await Promise.all(Array.from({ length: 5 }, validate))).toEqual(Array(5).fill('INVALID_TOKEN'));
    }
  });

  /**
   * The refresh's fast path writes outside the unit of work: no instance's local cache hears that it moved the
   * session's expiry. A cached expiry that has passed is read again from the database before it refuses (outside
   * review, 2026-12-03: the new access token was refused on both instances for up to the local entry's 10 s).
   */
  it('a session refreshed near its idle expiry stays valid although the caches hold the earlier expiry', async () => {
    const kit = await createKit({ refreshTokenTtlSeconds: 60 });
    const { tokens } = await kit.loggedIn();
    kit.clock.advance(50);
    const warmed = await warmLocally(kit, tokens.accessToken);
    const before = kit.localCache.session(warmed.claims.sid)!.expiresAt.getTime();
    // The shared cache holds the earlier expiry too (a reader racing the refresh put it back).
    const stale = { userId: warmed.user.id, expiresAt: new Date(before), revoked: false };
    const next = await kit.useCases.RefreshSession.execute({ refreshToken: tokens.refreshToken });
    await kit.sessionCache.remember(warmed.claims.sid, stale);
    expect(kit.localCache.session(warmed.claims.sid)?.expiresAt.getTime()).toBe(before);
    kit.clock.advance(11); // past the earlier expiry, within the refreshed one and the access token's life
    const validateNext = () => kit.useCases.ValidateAccessToken.execute({ token: next.accessToken });
    await expect(validateNext()).resolves.toMatchObject({ user: { id: warmed.user.id } });
    // Without the local entry (another instance), from the shared cache's stale one: the same.
    await kit.localCache.invalidate({ sessions: [warmed.claims.sid], users: [] });
    await expect(validateNext()).resolves.toMatchObject({ user: { id: warmed.user.id } });
    // The local cache now holds the expiry read from the database.
    expect(kit.localCache.session(warmed.claims.sid)!.expiresAt.getTime()).toBeGreaterThan(before);
    // A session that has really expired is still refused, whatever the caches say.
    kit.clock.advance(60);
    await expect(validateNext()).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
  });

  it('the user handed out is the caller’s own: changing it does not change the next answer', async () => {
    const kit = await createKit();
    const { tokens } = await kit.loggedIn();
    const { user, validate } = await warmLocally(kit, tokens.accessToken);
    const firstName = user.toState().firstName;
    user.updateProfile({ firstName: 'Mallory' }, kit.clock.now());
    user.suspend(kit.clock.now(), user.id);
    const again = await validate();
    expect([user.status, user.toState().firstName]).toEqual(['suspended', 'Mallory']);
    expect([again.user.status, again.user.toState().firstName]).toEqual(['active', firstName]);
  });

  describe('when the other instances cannot be told', () => {
    /** The kit's local cache, whose announcements to other instances fail. */
    function unannounced(kit: Kit): { uow: StateCacheInvalidation; lines: string[] } {
      const failing: AuthStateCache = {
        startRead: () => kit.localCache.startRead(),
        session: (id) => kit.localCache.session(id),
        user: (id) => kit.localCache.user(id),
        userEntry: (id) => kit.localCache.userEntry(id),
        putSession: (mark, id, state) => kit.localCache.putSession(mark, id, state),
        putUser: (mark, id, state) => kit.localCache.putUser(mark, id, state),
        invalidate: async (keys) => {
          await kit.localCache.invalidate(keys);
          throw new Error('publish failed');
        },
      };
      const lines: string[] = [];
      const log = (_fields: Record<string, unknown>, message: string) => void lines.push(message);
      const uow = new StateCacheInvalidation(new InMemoryUnitOfWork(kit.db, { secretBox: kit.box, clock: kit.clock }), failing, { info: log, warn: log, error: log });
      return { uow, lines };
    }

    it('a change that decides acceptance fails the request (SERVICE_UNAVAILABLE) although it committed', async () => {
      const kit = await createKit();
      const { user } = await kit.loggedIn();
      const { uow, lines } = unannounced(kit);
      const suspend = uow.run(async (repos) => {
        const fresh = (await repos.users.findByIdForUpdate(user.id))!;
        fresh.suspend(kit.clock.now(), 'admin-id');
        await repos.users.save(fresh);
      });
      await expect(suspend).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
      expect(kit.db.tables.users.get(user.id)?.status).toBe('suspended');
      expect(lines).toEqual([expect.stringContaining('revocation committed but not announced')]);
    });

    it('bookkeeping and profile changes succeed with a warning', async () => {
      const kit = await createKit();
      const { user } = await kit.loggedIn();
      const { uow, lines } = unannounced(kit);
      const edit = uow.run(async (repos) => {
        const fresh = (await repos.users.findByIdForUpdate(user.id))!;
        fresh.updateProfile({ firstName: 'Alicia' }, kit.clock.now());
        await repos.users.save(fresh);
        return 'done';
      });
      await expect(edit).resolves.toBe('done');
      expect(lines).toEqual([expect.stringContaining('change committed but not announced')]);
    });
  });
});

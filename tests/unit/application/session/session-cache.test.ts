import type { VerifiedUserAccessClaims } from '@application/ports/access-tokens';
import { Logout } from '@application/session/logout';
import { SessionCacheInvalidation } from '@application/session/session-cache-invalidation';
import { StateCacheInvalidation } from '@application/session/state-cache-invalidation';
import { ValidateAccessToken } from '@application/session/validate-access-token';
import type { CachedSessionState, SessionStateCache } from '@application/ports/session-state-cache';
import { InMemoryUnitOfWork } from '@infrastructure/persistence/memory/in-memory-unit-of-work';
import { CLIENT, PASSWORD, createKit } from '../support/test-kit';

type Kit = Awaited<ReturnType<typeof createKit>>;

/** Validates once so the session state is in the cache, and proves it is served from there. */
async function warm(kit: Kit, accessToken: string, sessionId: string) {
  await kit.useCases.ValidateAccessToken.execute({ token: accessToken });
  await expect(kit.sessionCache.get(sessionId)).resolves.toMatchObject({ revoked: false });
}

const sid = (kit: Kit, accessToken: string) => kit.tokens.verify(accessToken).then((c) => (c as VerifiedUserAccessClaims).sid);

describe('session state cache behind ValidateAccessToken', () => {
  it('serves session state from the cache once read (the database row is not consulted again)', async () => {
    const kit = await createKit();
    const { tokens } = await kit.loggedIn();
    const id = await sid(kit, tokens.accessToken);
    await warm(kit, tokens.accessToken, id);
    kit.db.tables.sessions.delete(id);
    await expect(kit.useCases.ValidateAccessToken.execute({ token: tokens.accessToken })).resolves.toBeDefined();
  });

  it('a logout is refused at once even though the session was cached as live', async () => {
    const kit = await createKit();
    const { tokens, user } = await kit.loggedIn();
    const id = await sid(kit, tokens.accessToken);
    await warm(kit, tokens.accessToken, id);
    await kit.useCases.Logout.execute({ userId: user.id, sessionId: id, scope: 'local', client: CLIENT });
    await expect(kit.useCases.ValidateAccessToken.execute({ token: tokens.accessToken })).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
  });

  it('a reader that read the live session before the logout committed cannot make it valid again', async () => {
    const kit = await createKit();
    const { tokens, user } = await kit.loggedIn();
    const id = await sid(kit, tokens.accessToken);
    const before = kit.db.tables.sessions.get(id)!;
    await kit.useCases.Logout.execute({ userId: user.id, sessionId: id, scope: 'local', client: CLIENT });
    await kit.sessionCache.remember(id, { userId: user.id, expiresAt: before.expiresAt, revoked: false });
    await expect(kit.useCases.ValidateAccessToken.execute({ token: tokens.accessToken })).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
  });

  it('refresh-token reuse and a password change revoke cached sessions at once', async () => {
    const kit = await createKit();
    const first = await kit.loggedIn('alice@example.com');
    const firstId = await sid(kit, first.tokens.accessToken);
    const next = await kit.useCases.RefreshSession.execute({ refreshToken: first.tokens.refreshToken });
    await warm(kit, next.accessToken, firstId);
    kit.clock.advance(11);
    await expect(kit.useCases.RefreshSession.execute({ refreshToken: first.tokens.refreshToken })).rejects.toMatchObject({ code: 'INVALID_REFRESH_TOKEN' });
    await expect(kit.useCases.ValidateAccessToken.execute({ token: next.accessToken })).rejects.toMatchObject({ code: 'INVALID_TOKEN' });

    const a = await kit.signIn({ identifier: 'alice@example.com', password: PASSWORD, client: CLIENT });
    const b = await kit.signIn({ identifier: 'alice@example.com', password: PASSWORD, client: CLIENT });
    const bId = await sid(kit, b.tokens.accessToken);
    await warm(kit, b.tokens.accessToken, bId);
    await kit.useCases.ChangePassword.execute({
      userId: a.user.id,
      sessionId: await sid(kit, a.tokens.accessToken),
      currentPassword: PASSWORD,
      newPassword: 'a brand new and long passphrase',
      client: CLIENT,
    });
    await expect(kit.useCases.ValidateAccessToken.execute({ token: b.tokens.accessToken })).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
    await expect(kit.useCases.ValidateAccessToken.execute({ token: a.tokens.accessToken })).resolves.toBeDefined();
  });

  it('a rotation drops the cached state, so the session slides without waiting for the TTL', async () => {
    const kit = await createKit();
    const { tokens } = await kit.loggedIn();
    const id = await sid(kit, tokens.accessToken);
    await warm(kit, tokens.accessToken, id);
    await kit.useCases.RefreshSession.execute({ refreshToken: tokens.refreshToken });
    await expect(kit.sessionCache.get(id)).resolves.toBeNull();
  });

  it('falls back to the database when the cache fails', async () => {
    const kit = await createKit();
    const { tokens, user } = await kit.loggedIn();
    const broken: SessionStateCache = {
      get: async () => Promise.reject(new Error('cache down')),
      remember: async () => Promise.reject(new Error('cache down')),
      invalidate: async () => Promise.reject(new Error('cache down')),
    };
    const validate = new ValidateAccessToken(kit.tokens, kit.repos.sessions, kit.repos.users, kit.clock, kit.settings, broken, kit.localCache, kit.repos.clients);
    await expect(validate.execute({ token: tokens.accessToken })).resolves.toMatchObject({ user: { id: user.id } });
    await kit.useCases.Logout.execute({ userId: user.id, sessionId: await sid(kit, tokens.accessToken), scope: 'local' });
    await expect(validate.execute({ token: tokens.accessToken })).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
  });

  describe('when the revoked marker cannot be written', () => {
    /** The kit's cache, whose revocation writes fail `failures` times (a lost write to a shared cache). */
    class LosingRevocations implements SessionStateCache {
      constructor(
        private readonly inner: SessionStateCache,
        public failures: number,
      ) {}
      get(id: string): Promise<CachedSessionState | null> {
        return this.inner.get(id);
      }
      remember(id: string, state: CachedSessionState): Promise<void> {
        return this.inner.remember(id, state);
      }
      async invalidate(changes: { revoked: string[]; changed: string[] }): Promise<void> {
        if (changes.revoked.length > 0 && this.failures > 0) {
          this.failures -= 1;
          throw new Error('write lost');
        }
        await this.inner.invalidate(changes);
      }
    }

    async function logoutThrough(kit: Kit, failures: number) {
      const { tokens, user } = await kit.loggedIn();
      const id = await sid(kit, tokens.accessToken);
      await warm(kit, tokens.accessToken, id); // another instance's view: the session cached as live
      const lines: string[] = [];
      const log = (_fields: Record<string, unknown>, message: string) => void lines.push(message);
      const logger = { info: log, warn: log, error: log };
      const uow = new StateCacheInvalidation(
        new SessionCacheInvalidation(new InMemoryUnitOfWork(kit.db, { secretBox: kit.box, clock: kit.clock }), new LosingRevocations(kit.sessionCache, failures), logger),
        kit.localCache,
        logger,
      );
      const logout = new Logout(uow, kit.clock).execute({ userId: user.id, sessionId: id, scope: 'local', client: CLIENT });
      return { logout, id, tokens, lines };
    }

    it('the revoking request fails (SERVICE_UNAVAILABLE) although the revocation is committed', async () => {
      const kit = await createKit();
      const { logout, id, lines } = await logoutThrough(kit, Number.POSITIVE_INFINITY);
      await expect(logout).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
      expect(kit.db.tables.sessions.get(id)?.revokedAt).toEqual(kit.clock.now());
      expect(lines).toEqual([expect.stringContaining('revocation committed but not written')]);
    });

    it('one lost write is retried after the commit; when the retry lands the request succeeds and the cache refuses', async () => {
      const kit = await createKit();
      const { logout, tokens } = await logoutThrough(kit, 1);
      await expect(logout).resolves.toEqual({ revoked: 1 });
      await expect(kit.useCases.ValidateAccessToken.execute({ token: tokens.accessToken })).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
    });
  });
});

import type { VerifiedUserAccessClaims } from '@application/ports/access-tokens';
import { CLIENT, PASSWORD, createKit } from '../support/test-kit';

const REQUEST = { ...CLIENT, requestId: 'req-audit-1' };

describe('audit trail of the auth use cases', () => {
  it('records who, what, outcome, reason, ip, user agent and request id, and never a secret', async () => {
    const kit = await createKit();
    await kit.useCases.RegisterUser.execute({ email: 'alice@example.com', password: PASSWORD, client: REQUEST });
    const verificationToken = kit.lastToken('alice@example.com');
    const alice = await kit.useCases.VerifyEmail.execute({ token: verificationToken, client: REQUEST });
    await expect(kit.signIn({ identifier: 'alice@example.com', password: 'a wrong password', client: REQUEST })).rejects.toThrow();
    await expect(kit.signIn({ identifier: 'ghost@example.com', password: 'a wrong password', client: REQUEST })).rejects.toThrow();
    await kit.settle(); // the failures' bookkeeping follows their answers
    const { tokens } = await kit.signIn({ identifier: 'alice@example.com', password: PASSWORD, client: REQUEST });
    const rotated = await kit.useCases.RefreshSession.execute({ refreshToken: tokens.refreshToken, client: REQUEST });
    kit.clock.advance(11);
    await expect(kit.useCases.RefreshSession.execute({ refreshToken: tokens.refreshToken, client: REQUEST })).rejects.toThrow();
    const again = await kit.signIn({ identifier: 'alice@example.com', password: PASSWORD, client: REQUEST });
    const { sid } = (await kit.tokens.verify(again.tokens.accessToken)) as VerifiedUserAccessClaims;
    await kit.useCases.Logout.execute({ userId: alice.id, sessionId: sid, scope: 'global', client: REQUEST });

    const entries = kit.db.tables.auditEvents;
    // The actor: the account for what its holder did; nobody for a failed login (anyone may have sent it: until
    // stop 63 the account was named as its actor, a review) and for a replayed refresh token.
    expect(entries.map((e) => [e.type, e.outcome, e.reason, e.subjectId, e.actorId])).toEqual([
      ['user.registered', 'success', null, alice.id, alice.id],
      ['email.verified', 'success', null, alice.id, alice.id],
      ['login.failed', 'failure', 'wrong_password', alice.id, null],
      ['login.failed', 'failure', 'unknown_account', null, null],
      ['login.succeeded', 'success', null, alice.id, alice.id],
      ['refresh_token.reuse_detected', 'failure', 'refresh_token_reuse', alice.id, null],
      ['login.succeeded', 'success', null, alice.id, alice.id],
      ['session.revoked', 'success', 'logout_global', alice.id, alice.id],
    ]);
    for (const entry of entries) {
      expect(entry).toMatchObject({ ip: CLIENT.ip, userAgent: CLIENT.userAgent, requestId: 'req-audit-1' });
      expect(entry.occurredAt.toISOString()).toMatch(/^2026-01-01T00:00:(00|11)\.000Z$/);
    }
    expect(entries.find((e) => e.type === 'refresh_token.reuse_detected')?.actorId).toBeNull();
    const dump = JSON.stringify(entries);
    for (const secret of [PASSWORD, 'a wrong password', verificationToken, tokens.refreshToken, tokens.accessToken, rotated.refreshToken]) {
      expect(dump).not.toContain(secret);
    }
  });

  it('writes nothing when the change it records rolls back', async () => {
    const kit = await createKit();
    await kit.registerVerified('alice@example.com');
    const before = kit.db.tables.auditEvents.length;
    await expect(
      kit.uow.run(async (repos) => {
        await repos.audit.record({ ...REQUEST, type: 'login.failed', outcome: 'failure', actorId: null, subjectId: null, reason: 'x', occurredAt: kit.clock.now() });
        throw new Error('the change failed');
      }),
    ).rejects.toThrow('the change failed');
    expect(kit.db.tables.auditEvents).toHaveLength(before);
  });
});

import { createLogger } from '@infrastructure/logging/pino-logger';
import { A_PASSWORD_HASH, aSession, aVerifiedUser, rotated, T0 } from '../../../support/mothers';

function logged(fields: Record<string, unknown>): Record<string, unknown> {
  const lines: string[] = [];
  createLogger('info', { write: (line: string) => void lines.push(line) }).error(fields, 'failed');
  return JSON.parse(lines[0]!) as Record<string, unknown>;
}

/** Shaped like TypeORM's QueryFailedError: the driver's fields copied onto it, the SQL and its parameters beside. */
class QueryFailedError extends Error {
  readonly code = '23505';
  readonly detail = 'Key (email)=(ada@example.com) already exists.';
  readonly query = 'INSERT INTO "users" ("email") VALUES ($1)';
  readonly parameters = ['ada@example.com', '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA'];
  readonly driverError = { detail: this.detail, table: 'users' };
}

describe('the err serializer', () => {
  it('keeps type, code, message and stack of an error and drops every other field', () => {
    const { err } = logged({ err: new QueryFailedError('duplicate key value violates unique constraint "users_email_key"') });
    expect(err).toEqual({
      type: 'QueryFailedError',
      code: '23505',
      message: 'duplicate key value violates unique constraint "users_email_key"',
      stack: expect.stringContaining('users_email_key'),
    });
  });

  it('follows a cause chain the same way, a few levels deep', () => {
    const inner = new QueryFailedError('deadlock detected');
    const { err } = logged({ err: new Error('transaction failed', { cause: new Error('retry gave up', { cause: inner }) }) });
    const text = JSON.stringify(err);
    expect(text).toContain('deadlock detected');
    expect(text).toContain('"code":"23505"');
    expect(text).not.toMatch(/ada@example\.com|argon2id|INSERT INTO|driverError|detail/);
  });

  it('keeps a string as it is and reduces any other thrown value to its kind', () => {
    expect(logged({ err: 'connection refused' }).err).toBe('connection refused');
    expect(logged({ err: { email: 'ada@example.com', password_hash: 'x' } }).err).toEqual({ type: 'Object' });
  });

  it('still redacts codes outside an error (MFA codes)', () => {
    expect(logged({ body: { code: '123456' }, code: '654321' })).toEqual(expect.objectContaining({ body: { code: '[redacted]' }, code: '[redacted]' }));
  });
});

describe('redaction of stored secrets (a review of stop 62)', () => {
  it("a user's or a session's state logged by mistake shows no password hash, token digest or sealed value", () => {
    const user = aVerifiedUser({ passwordHash: A_PASSWORD_HASH });
    const session = aSession(user.id);
    rotated(session, T0);
    const text = JSON.stringify(logged({ user: user.toState(), session: session.toState(), nested: { user: user.toState() } }));
    const state = session.toState();
    expect(text).toContain(user.id); // the states are there, their secrets are not
    expect(text).not.toContain('$argon2');
    for (const secret of [state.refreshTokenHash, state.previousTokenHash!, state.sealedRefreshToken, ...state.retiredTokenHashes]) {
      expect(text).not.toContain(secret);
    }
  });
});

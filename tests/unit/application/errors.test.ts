import { Errors } from '@application/shared/errors';
import { DomainError } from '@domain/shared/domain-error';
import { DomainErrors } from '@domain/shared/errors';
import { mapError } from '@interface/http/errors/error-mapper';
import { HttpErrors } from '@interface/http/errors/http-error';

/** Every factory of the catalogue, called with sample arguments. */
const samples: Record<keyof typeof Errors, () => DomainError> = {
  validation: () => Errors.validation('email', 'must be a valid email address'),
  invalidRequest: () => Errors.invalidRequest({ email: ['x'] }),
  weakPassword: () => Errors.weakPassword(['too common']),
  accountDisabled: () => Errors.accountDisabled(),
  emailNotVerified: () => Errors.emailNotVerified(),
  invalidLink: () => Errors.invalidLink(),
  mfaAlreadyEnabled: () => Errors.mfaAlreadyEnabled(),
  mfaNotEnabled: () => Errors.mfaNotEnabled(),
  noPendingTotpSetup: () => Errors.noPendingTotpSetup(),
  invalidToken: () => Errors.invalidToken(),
  serviceTokenRefused: () => Errors.serviceTokenRefused(),
  forbidden: () => Errors.forbidden(),
  invalidCredentials: () => Errors.invalidCredentials(),
  wrongCurrentPassword: () => Errors.wrongCurrentPassword(),
  invalidRefreshToken: () => Errors.invalidRefreshToken(),
  accountLocked: () => Errors.accountLocked(899.2),
  checksInFlight: () => Errors.checksInFlight(1),
  attemptsInFlight: () => Errors.attemptsInFlight(1),
  invalidSecondFactor: () => Errors.invalidSecondFactor(),
  wrongMfaCode: () => Errors.wrongMfaCode(),
  setupCodeMismatch: () => Errors.setupCodeMismatch(),
  mfaLocked: () => Errors.mfaLocked(30.5),
  rateLimited: () => Errors.rateLimited(12.3),
  emailAlreadyRegistered: () => Errors.emailAlreadyRegistered(),
  usernameTaken: () => Errors.usernameTaken(),
  userNotFound: () => Errors.userNotFound(),
  sessionNotFound: () => Errors.sessionNotFound(),
  notYetEverywhere: () => Errors.notYetEverywhere(),
  hashingBusy: () => Errors.hashingBusy(2),
  clientNotFound: () => Errors.clientNotFound(),
  clientSecretReplacedMeanwhile: () => Errors.clientSecretReplacedMeanwhile(),
  clientTokensCutOffAhead: () => Errors.clientTokensCutOffAhead(0.4),
  recoveryCodesReplacedMeanwhile: () => Errors.recoveryCodesReplacedMeanwhile(),
  linkBaseUnknown: () => Errors.linkBaseUnknown(),
  lastActiveAdmin: () => Errors.lastActiveAdmin(),
  adminSelfAction: () => Errors.adminSelfAction(),
  noLongerAdmin: () => Errors.noLongerAdmin(),
  userSuspended: () => Errors.userSuspended(),
  secondFactorNotRecent: () => Errors.secondFactorNotRecent(),
  signInNotRecent: () => Errors.signInNotRecent(),
};

describe('the error catalogue', () => {
  it('includes every domain factory', () => {
    for (const name of Object.keys(DomainErrors)) expect(Errors).toHaveProperty(name);
  });

  it.each(Object.entries(samples))('%s is a DomainError the HTTP mapper knows (no 500)', (_name, make) => {
    const error = make();
    expect(error).toBeInstanceOf(DomainError);
    const failure = mapError(error);
    expect(failure?.status).toBeGreaterThanOrEqual(400);
    expect(failure?.status).not.toBe(500);
    expect(failure?.body).toMatchObject({ code: error.code, message: error.message });
    // Every 503 and 429 says when to come back (README: "503 with Retry-After").
    if (failure?.status === 503 || failure?.status === 429) expect(failure.headers['Retry-After']).toMatch(/^[1-9]\d*$/);
  });

  it('gives each situation one message, and no two factories of one code the same message', () => {
    const seen = new Map<string, string>();
    for (const [name, make] of Object.entries(samples)) {
      const { code, message } = make();
      const key = `${code}|${message}`;
      // validation and invalidRequest are one error (one field or several).
      if (!['validation', 'invalidRequest'].includes(name)) expect([name, seen.get(key)]).toEqual([name, undefined]);
      seen.set(key, name);
      expect(make().message).toBe(message);
    }
  });

  it('keeps the answers the API gave before the catalogue', () => {
    expect(Errors.invalidCredentials()).toMatchObject({ code: 'INVALID_CREDENTIALS', message: 'The email, username or password is incorrect.' });
    expect(Errors.emailAlreadyRegistered()).toMatchObject({ code: 'EMAIL_ALREADY_REGISTERED', message: 'An account with this email already exists.' });
    expect(Errors.accountLocked(899.2)).toMatchObject({ code: 'ACCOUNT_LOCKED', retryAfterSeconds: 900 });
    expect(mapError(Errors.accountLocked(0.1))?.headers).toEqual({ 'Retry-After': '1' });
    expect(mapError(Errors.invalidToken())?.headers).toEqual({ 'WWW-Authenticate': 'Bearer error="invalid_token"' });
    expect(mapError(Errors.serviceTokenRefused())).toMatchObject({ status: 403, body: { code: 'FORBIDDEN' } });
    // The password hasher's refusal when saturated: 503 with a short Retry-After, never a wrong password.
    // Told from an outage by details.service (since stop 65: a client's circuit breaker must not count it).
    expect(mapError(Errors.hashingBusy(2))).toMatchObject({ status: 503, body: { code: 'SERVICE_UNAVAILABLE', details: { service: ['busy'] } }, headers: { 'Retry-After': '2' } });
    expect(mapError(Errors.notYetEverywhere())?.body).not.toHaveProperty('details');
    // A token request whose client's cut-off second this clock has not passed: 503, retried in a second.
    expect(mapError(Errors.clientTokensCutOffAhead(0.4))).toMatchObject({ status: 503, body: { code: 'SERVICE_UNAVAILABLE' }, headers: { 'Retry-After': '1' } });
    expect(mapError(Errors.checksInFlight(1))).toMatchObject({ status: 429, body: { code: 'RATE_LIMITED' }, headers: { 'Retry-After': '1' } });
    // The second step's quota per account answers as the HTTP layer's quotas do (HttpErrors.rateLimited).
    expect(mapError(Errors.rateLimited(12.3))).toEqual(mapError(HttpErrors.rateLimited(12.3)));
  });

  it('an unreachable database or a cancelled statement is a 503 with Retry-After, a failing statement stays a 500 (logged as a bug)', () => {
    const unreachable = [
      new Error('Connection terminated unexpectedly'),
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }),
      Object.assign(new Error('query failed'), { driverError: Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }) }),
      Object.assign(new Error('wrapped'), { cause: Object.assign(new Error('x'), { code: '08006' }) }),
      // PgBouncer's answer for a PostgreSQL it cannot reach (08P01, protocol_violation): an outage (a review of stop 52).
      Object.assign(new Error('query failed'), { driverError: Object.assign(new Error('server login has been failing, try again later (server_login_retry)'), { code: '08P01' }) }),
      new Error('timeout exceeded when trying to connect'),
      // A statement the server cancelled (the query deadline's cancel request meeting a connection's next statement).
      Object.assign(new Error('query failed'), { driverError: Object.assign(new Error('canceling statement due to user request'), { code: '57014' }) }),
    ];
    for (const error of unreachable) {
      expect(mapError(error)).toMatchObject({ status: 503, body: { code: 'SERVICE_UNAVAILABLE' }, headers: { 'Retry-After': '5' }, outage: true });
    }
    const bugs = [
      Object.assign(new Error('new row violates check constraint'), { code: '23514' }),
      new Error('Cannot read properties of undefined'),
      Object.assign(new Error('syntax'), { driverError: { code: '42601' } }),
    ];
    for (const error of bugs) expect(mapError(error)).toBeNull();
    // Rolled back for a concurrent transaction (deadlock, serialization failure, lock not available): nothing written.
    const contended = [
      Object.assign(new Error('query failed'), { driverError: Object.assign(new Error('deadlock detected'), { code: '40P01' }) }),
      Object.assign(new Error('could not serialize access'), { code: '40001' }),
      Object.assign(new Error('wrapped'), { cause: Object.assign(new Error('could not obtain lock'), { code: '55P03' }) }),
    ];
    for (const error of contended) {
      expect(mapError(error)).toMatchObject({ status: 503, body: { code: 'SERVICE_UNAVAILABLE', message: expect.stringContaining('concurrent') }, headers: { 'Retry-After': '1' } });
    }
  });

  it('transport codes are HTTP errors with their headers', () => {
    expect(mapError(HttpErrors.unauthenticated())).toEqual({
      status: 401,
      body: { code: 'UNAUTHENTICATED', message: 'A bearer access token is required.' },
      headers: { 'WWW-Authenticate': 'Bearer' },
    });
    expect(mapError(HttpErrors.rateLimited(12.3))).toEqual({
      status: 429,
      body: { code: 'RATE_LIMITED', message: 'Too many requests. Try again later.' },
      headers: { 'Retry-After': '13' },
    });
  });
});

import type { UserState } from '@domain/user/user';
import { randomBytes } from 'node:crypto';
import { Container, type ServiceIdentifier } from 'inversify';
import { PORTS, type Token } from '@application/ports/tokens';
import type { Instances } from '@application/shared/feature-module';
import { APPLICATION_CLASSES, FEATURE_MODULES } from '@config/modules';
import type { AuthSettings } from '@application/shared/auth-settings';
import type { PasswordHasher } from '@application/ports/password-hasher';
import { DeferredTasks } from '@infrastructure/jobs/deferred-tasks';
import { InMemorySecretAttempts } from '@infrastructure/cache/memory/in-memory-secret-attempts';
import { InMemoryOtpReplayGuard } from '@infrastructure/cache/memory/in-memory-otp-replay-guard';
import { OtpauthTotp } from '@infrastructure/security/otp/otpauth-totp';
import { HmacRecoveryCodes } from '@infrastructure/security/crypto/hmac-recovery-codes';
import type { LoginInput, SignedIn } from '@application/session/login-with-password';
import { EmailOutboxSender } from '@infrastructure/email/email-outbox-sender';
import { AccountRequestWorker } from '@infrastructure/jobs/account-request-worker';
import { InMemoryAccountRequestQueue } from '@infrastructure/persistence/memory/in-memory-account-requests';
import { InMemoryEmailQueue } from '@infrastructure/persistence/memory/in-memory-email-outbox';
import { InMemoryMailer } from '@infrastructure/email/memory/in-memory-mailer';
import { SessionCacheInvalidation } from '@application/session/session-cache-invalidation';
import { StateCacheInvalidation } from '@application/session/state-cache-invalidation';
import { InProcessInvalidationLink } from '@infrastructure/cache/local/invalidation-link';
import { LocalStateCache } from '@infrastructure/cache/local/local-state-cache';
import { InMemoryLoginLockout } from '@infrastructure/cache/memory/in-memory-login-lockout';
import { InMemoryRateLimiter } from '@infrastructure/cache/memory/in-memory-rate-limiter';
import { InMemorySessionStateCache } from '@infrastructure/cache/memory/in-memory-session-state-cache';
import { ZxcvbnStrengthEstimator } from '@infrastructure/security/zxcvbn/zxcvbn-strength-estimator';
import { InMemoryDatabase } from '@infrastructure/persistence/memory/in-memory-database';
import { InMemorySigningKeyRepository } from '@infrastructure/persistence/memory/in-memory-signing-key.repository';
import { InMemoryUnitOfWork, inMemoryRepositories } from '@infrastructure/persistence/memory/in-memory-unit-of-work';
import { Argon2PasswordHasher } from '@infrastructure/security/argon2/argon2-password-hasher';
import { AesGcmSecretBox } from '@infrastructure/security/crypto/aes-gcm-secret-box';
import { CryptoOpaqueTokens } from '@infrastructure/security/crypto/crypto-opaque-tokens';
import { HmacClientSecrets } from '@infrastructure/security/crypto/hmac-client-secrets';
import { JoseTokenService } from '@infrastructure/security/jose/jose-token-service';
import { SigningKeyManager } from '@infrastructure/security/jose/signing-key-manager';
import { ManualClock } from '@infrastructure/time/system-clock';
import { UuidGenerator } from '@infrastructure/time/uuid-generator';
import { InMemoryAuditTrail } from '@infrastructure/persistence/memory/in-memory-audit-trail';
import { InMemoryUserDirectory } from '@infrastructure/persistence/memory/in-memory-user-directory';

export const CLIENT = { ip: '203.0.113.7', userAgent: 'jest' };
export const PASSWORD = 'correct horse battery staple';

export const DEFAULT_SETTINGS: AuthSettings = {
  requireEmailVerification: true,
  passwordMinLength: 8,
  refreshTokenTtlSeconds: 30 * 86400,
  sessionMaxLifetimeSeconds: 90 * 86400,
  refreshGraceSeconds: 10,
  verificationTokenTtlSeconds: 24 * 3600,
  publicUrl: 'https://app.example.com',
  // The production default of RATE_LIMIT_REGISTER_ID, under the same policy name.
  claimsPerAddress: { name: 'register-id', limit: 5, windowSeconds: 3600 },
  maxSessionsPerUser: 100,
};

/**
 * Every use case from the application's feature modules, wired to real in-memory adapters and real crypto, with
 * a clock the test moves.
 */
export async function createKit(settingsOverride: Partial<AuthSettings> = {}, hasher?: PasswordHasher) {
  const settings = { ...DEFAULT_SETTINGS, ...settingsOverride };
  const db = new InMemoryDatabase();
  const clock = new ManualClock(new Date('2026-01-01T00:00:00Z'));
  const box = new AesGcmSecretBox(randomBytes(32));
  const mailer = new InMemoryMailer();
  const senderLogs: { fields: Record<string, unknown>; message: string }[] = [];
  const log = (fields: Record<string, unknown>, message: string) => void senderLogs.push({ fields, message });
  // The real sender over the in-memory queue, run after every commit that queued email: tests read the mailer.
  const sender = new EmailOutboxSender(new InMemoryEmailQueue(db), mailer, box, clock, { info: log, warn: log, error: log });
  // Issue 4: lockout and session cache in memory (the embedded adapters), the real password policy.
  const lockout = new InMemoryLoginLockout({ threshold: 5, baseSeconds: 900, maxSeconds: 86400 });
  const sessionCache = new InMemorySessionStateCache(clock, { ttlSeconds: 30, revokedTtlSeconds: 1020 });
  const rateLimiter = new InMemoryRateLimiter(clock);
  // The real worker over the in-memory queue: register/reset/resend resolve once it has processed their request.
  const requestWorker = new AccountRequestWorker(new InMemoryAccountRequestQueue(db), box, clock, { info: log, warn: log, error: log });
  // The local validate cache as embedded mode has it (one instance), on the kit's clock.
  const localCache = new LocalStateCache(new InProcessInvalidationLink(), { maxEntries: 1000, ttlMs: 10_000, now: () => clock.now().getTime() });
  const uow = new StateCacheInvalidation(
    new SessionCacheInvalidation(
      new InMemoryUnitOfWork(db, { secretBox: box, clock, wake: { emailSender: () => sender.drain(), accountRequests: () => requestWorker.drain() } }),
      sessionCache,
      { info: log, warn: log, error: log },
    ),
    localCache,
    { info: log, warn: log, error: log },
  );
  const repos = inMemoryRepositories(db, { secretBox: box, clock });
  const ids = new UuidGenerator();
  const passwords = hasher ?? new Argon2PasswordHasher();
  const opaque = new CryptoOpaqueTokens();
  const keys = new SigningKeyManager(new InMemorySigningKeyRepository(), box, clock, { alg: 'EdDSA', accessTokenTtlSeconds: 900 });
  await keys.init();
  const tokens = new JoseTokenService(keys, { issuer: 'https://auth.example.com', audience: 'api', accessTokenTtlSeconds: 900, verifiedCacheMaxEntries: 1000 }, ids, clock);
  // The application's own feature modules over the in-memory adapters: the classes the service runs, wired once.
  const container = new Container({ defaultScope: 'Singleton' });
  const constant = <T>(id: Token<T>, value: T) => void container.bind<T>(id).toConstantValue(value);
  constant(PORTS.AuthSettings, settings);
  constant(PORTS.PasswordMinLength, settings.passwordMinLength);
  constant(PORTS.CurrentPasswordMaxFailures, 5);
  constant(PORTS.Clock, clock);
  // The service's own adapter: a failed login's bookkeeping follows the answer; `settle()` waits for it.
  const deferred = new DeferredTasks({ info: log, warn: log, error: log });
  constant(PORTS.DeferredWork, deferred);
  constant(PORTS.IdGenerator, ids);
  constant(PORTS.PasswordHasher, passwords);
  constant(PORTS.OpaqueTokens, opaque);
  constant(PORTS.SecretBox, box);
  constant(PORTS.TokenSigner, tokens);
  constant(PORTS.TokenVerifier, tokens);
  constant(PORTS.Mailer, mailer);
  constant(PORTS.UnitOfWork, uow);
  constant(PORTS.UserRepository, repos.users);
  constant(PORTS.SessionRepository, repos.sessions);
  constant(PORTS.RateLimiter, rateLimiter);
  constant(PORTS.LoginLockout, lockout);
  constant(PORTS.SecretAttempts, new InMemorySecretAttempts());
  constant(PORTS.SessionStateCache, sessionCache);
  constant(PORTS.AuthStateCache, localCache);
  constant(PORTS.PasswordStrengthEstimator, new ZxcvbnStrengthEstimator());
  // Issue 10: TOTP is pure computation (the real adapter); used steps in memory on the kit's clock.
  constant(PORTS.Totp, new OtpauthTotp());
  constant(PORTS.OtpReplayGuard, new InMemoryOtpReplayGuard(clock));
  const recoveryCodes = new HmacRecoveryCodes(randomBytes(32));
  constant(PORTS.RecoveryCodes, recoveryCodes);
  const mfaLockout = new InMemoryLoginLockout({ threshold: 5, baseSeconds: 900, maxSeconds: 86400 });
  constant(PORTS.MfaLockoutStore, mfaLockout);
  constant(PORTS.MfaSettings, { issuer: 'Example', challengeTtlSeconds: 300, verifyPerAccount: { name: 'mfa-id', limit: 20, windowSeconds: 900 } });
  // Issue 11: service clients in memory, secrets under a fresh key.
  constant(PORTS.ServiceClientRepository, repos.clients);
  constant(PORTS.ClientSecrets, new HmacClientSecrets(randomBytes(32)));
  // Issue 12: the admin API's read side over the same in-memory tables.
  constant(PORTS.UserDirectory, new InMemoryUserDirectory(db));
  constant(PORTS.AuditTrail, new InMemoryAuditTrail(db));
  container.load(...FEATURE_MODULES);
  const resolve = <T>(id: ServiceIdentifier<T>): T => container.get<T>(id);
  /** Every use case and helper by its class name, resolved from the modules (e.g. `useCases.RegisterUser`). */
  const useCases = Object.fromEntries(
    Object.entries(APPLICATION_CLASSES).map(([name, cls]) => [name, resolve<object>(cls)]),
  ) as unknown as Instances<typeof APPLICATION_CLASSES>;
  const issuer = useCases.SessionIssuer;
  const passwordPolicy = useCases.PasswordPolicy;
  requestWorker.handleWith(useCases.ProcessAccountRequest);

  /** The token in the last link mailed to `to`, as the user would click it. */
  function lastToken(to: string): string {
    const mail = mailer.inbox(to).at(-1);
    const match = mail ? /token=([A-Za-z0-9_-]+)/.exec(mail.text) : null;
    if (!match) throw new Error(`no token mailed to ${to}`);
    return match[1]!;
  }

  async function registerVerified(email: string, username?: string) {
    await useCases.RegisterUser.execute({ email, password: PASSWORD, username, client: CLIENT });
    return useCases.VerifyEmail.execute({ token: lastToken(email) });
  }

  /** A login that must sign in with the password alone (no second factor on the account). */
  async function signIn(input: LoginInput): Promise<SignedIn> {
    const outcome = await useCases.LoginWithPassword.execute(input);
    if (outcome.mfaRequired) throw new Error('signIn: the account asks for a second factor');
    return outcome;
  }

  async function loggedIn(email = 'alice@example.com') {
    await registerVerified(email);
    return signIn({ identifier: email, password: PASSWORD, client: CLIENT });
  }

  /** Registered, verified and signed in: the user, its tokens, and the id and session (`sid`) its access token names. */
  async function signedInAs(email = 'alice@example.com', username?: string) {
    await registerVerified(email, username);
    const outcome = await signIn({ identifier: email, password: PASSWORD, client: CLIENT });
    const claims = await tokens.verify(outcome.tokens.accessToken);
    if (!('sid' in claims)) throw new Error('not a user token');
    return { ...outcome, userId: outcome.user.id, sessionId: claims.sid };
  }

  /** An active admin, signed in: the actor of the admin use cases (CreateAdmin promotes the registered account). */
  async function anAdmin(email = 'support@example.com') {
    const { userId, sessionId } = await signedInAs(email);
    await useCases.CreateAdmin.execute({ email, password: 'unused' });
    return { id: userId, sessionId, client: CLIENT };
  }

  /** Test setup only: writes a user's stored state as an operator (or a later feature) would have left it. */
  // Behind the unit of work's back: drops the local cache's copy as a committed change would.
  const overwriteUser = (state: UserState) => {
    db.tables.users.set(state.id, structuredClone(state));
    void localCache.invalidate({ sessions: [], users: [state.id] });
  };
  const eventTypes = () => db.tables.outbox.map((row) => row.event.type);
  const auditTypes = () => db.tables.auditEvents.map((entry) => entry.type);
  const settle = () => deferred.drain();
  return { container, resolve, overwriteUser, deferred, settle, requestWorker, settings, db, uow, repos, clock, mailer, sender, senderLogs, box, keys, tokens, issuer, useCases, signIn, recoveryCodes, mfaLockout, lastToken, registerVerified, loggedIn, signedInAs, anAdmin, eventTypes, lockout, sessionCache, localCache, rateLimiter, passwordPolicy, auditTypes };
}

/** The session id (`sid`) of a user's access token, read through the kit's token service (so it is verified too). */
export async function sidOf(kit: { tokens: { verify(token: string): Promise<object> } }, accessToken: string): Promise<string> {
  const claims = await kit.tokens.verify(accessToken);
  if (!('sid' in claims) || typeof claims.sid !== 'string') throw new Error('not a user token');
  return claims.sid;
}

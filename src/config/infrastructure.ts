import { resolve as resolvePath } from 'node:path';
import type { Logger } from 'pino';
import type { Clock } from '@application/ports/clock';
import type { Mailer } from '@application/ports/mailer';
import { DeferredTasks } from '@infrastructure/jobs/deferred-tasks';
import { dependencyUnreachable, transactionContended } from '@interface/dependency-outage';
import { AccountRequestWorker, DEFAULT_ACCOUNT_REQUEST_WORKER_SETTINGS } from '@infrastructure/jobs/account-request-worker';
import type { AuditDecorator } from '@infrastructure/persistence/repository-options';
import { TypeOrmAccountRequestQueue } from '@infrastructure/persistence/typeorm/typeorm-account-requests';
import { TypeOrmAuditTrail } from '@infrastructure/persistence/typeorm/typeorm-audit-trail';
import { TypeOrmUserDirectory } from '@infrastructure/persistence/typeorm/typeorm-user-directory';
import { TypeOrmUnitOfWork, typeOrmRepositories } from '@infrastructure/persistence/typeorm/typeorm-unit-of-work';
import { Argon2PasswordHasher } from '@infrastructure/security/argon2/argon2-password-hasher';
import { AesGcmSecretBox, parseEncryptionKey } from '@infrastructure/security/crypto/aes-gcm-secret-box';
import { CryptoOpaqueTokens } from '@infrastructure/security/crypto/crypto-opaque-tokens';
import { HmacClientSecrets } from '@infrastructure/security/crypto/hmac-client-secrets';
import { OtpauthTotp } from '@infrastructure/security/otp/otpauth-totp';
import { HmacRecoveryCodes } from '@infrastructure/security/crypto/hmac-recovery-codes';
import { JoseTokenService } from '@infrastructure/security/jose/jose-token-service';
import { ZxcvbnWorkerStrengthEstimator } from '@infrastructure/security/zxcvbn/zxcvbn-worker-strength-estimator';
import { SystemClock } from '@infrastructure/time/system-clock';
import { UuidGenerator } from '@infrastructure/time/uuid-generator';
import { SessionCacheInvalidation } from '@application/session/session-cache-invalidation';
import { StateCacheInvalidation } from '@application/session/state-cache-invalidation';
import { startCache } from './cache';
import { openDatabase } from './database';
import { startEmailDelivery } from './email';
import { resolveEncryptionKey } from './encryption-key';
import type { AppConfig } from './env';
import { startMessaging } from './messaging';
import { PurgeSchedule } from './purge-schedule';
import { startSigningKeys } from './signing-keys';
import { closeInOrder } from './close-in-order';
import type { Infrastructure } from './infrastructure-parts';

export type { Infrastructure } from './infrastructure-parts';

/** Test seams (a controllable clock, a mailbox the test reads) and the CLI's opt-out of the query deadline. */
export interface InfrastructureOverrides {
  clock?: Clock;
  mailer?: Mailer;
  /** false: no DATABASE_QUERY_TIMEOUT on the pool (the CLI: its batches may run long; see openDatabase). Default true. */
  queryDeadline?: boolean;
  /**
   * `manage` (the service, and the CLI's rotate-keys): make sure an active key of JWT_ALG and a next key exist.
   * `follow` (every other CLI command): read the keys as they are and create or retire none, so that a command run
   * with another JWT_ALG than the service's (or on a database no service has started on) cannot switch the fleet's
   * signing key. Default `manage`.
   */
  signingKeys?: 'manage' | 'follow';
  /**
   * false (the CLI's one-shot commands): nothing runs in the background, neither the outbox relay, the email sender,
   * the account-request worker nor the event subscribers, and a commit wakes none of them. What a command writes
   * (an event, an email) waits in its outbox for the service's own workers. Until 2026-12-02 every command started
   * them all against the service's database: run without the service's AMQP_URL, SMTP_URL or APP_PUBLIC_URL, it
   * took the service's pending events (marked published, never sent to the broker), e-mails (written to a local
   * dev mailbox, marked sent) and sign-up or reset requests (links to localhost): two outside reviews found it.
   * Default true.
   */
  background?: boolean;
  /**
   * `degrade` (the service): a Redis that cannot be reached at start does not stop it; it serves degraded and
   * connects in the background (standalone REDIS_MODE; Cluster and Sentinel still require it). `require` (the CLI:
   * a one-shot command, `unlock` above all, must not half-run without the shared cache): no Redis, no start.
   * Default `degrade`.
   */
  redisAtStart?: 'require' | 'degrade';
  /**
   * A password-strength estimator the caller owns: used (and warmed up) as the service's own, but not closed with it.
   * The tests' seam for sharing one zxcvbn worker among the apps a suite starts: each worker loads the dictionaries
   * anew, 0.75-0.85 s of CPU on this machine, and a hundred apps start in `npm test`. A service has one.
   */
  passwordStrength?: ZxcvbnWorkerStrengthEstimator;
}

/** Starts every adapter the configuration asks for: embedded parts where a URL is missing. */
export async function startInfrastructure(
  config: AppConfig,
  logger: Logger,
  overrides: InfrastructureOverrides = {},
  /** Wraps every transaction's audit log (the metrics count login outcomes, lockouts and reuse from it). */
  decorateAudit?: AuditDecorator,
): Promise<Infrastructure> {
  // Not created here: each embedded part that needs DATA_DIR (key file, PGlite and its lock, dev mailbox) creates
  // it, so a fully configured service (four URLs and ENCRYPTION_KEY) writes nothing there and runs on a
  // read-only filesystem.
  const dataDir = resolvePath(config.dataDir);
  const clock = overrides.clock ?? new SystemClock();
  const encryption = await resolveEncryptionKey(config.encryptionKey, dataDir);
  const currentKey = parseEncryptionKey(encryption.key);
  const previousKeys = config.previousEncryptionKeys.map(parseEncryptionKey);
  // The env checks compare ENCRYPTION_KEY; the key file's key is known only now.
  if (previousKeys.some((key) => key.equals(currentKey))) throw new Error(`ENCRYPTION_KEYS_PREVIOUS lists the current key (${encryption.source})`);
  const secretBox = new AesGcmSecretBox(currentKey, previousKeys, { acceptLegacy: config.legacySealedValues === 'accept' });
  const recoveryCodes = new HmacRecoveryCodes(currentKey, previousKeys);
  const clientSecrets = new HmacClientSecrets(currentKey, previousKeys);
  if (!config.encryptionKey) logger.warn({ source: encryption.source }, 'ENCRYPTION_KEY not set: using a key file under DATA_DIR');

  const cache = await startCache(config, clock, logger, parseEncryptionKey(encryption.key), overrides.redisAtStart ?? 'degrade');
  const database = await openDatabase(config, dataDir, logger, { queryDeadline: overrides.queryDeadline ?? true }).catch(async (error: unknown) => {
    await cache.close();
    throw error;
  });
  const { dataSource } = database;
  const repositories = typeOrmRepositories(dataSource.manager, { secretBox, clock });
  // A key that does not open (another ENCRYPTION_KEY) stops the start: with the database and cache closed, so that
  // a CLI command run in process (the tests') leaves nothing open behind its one line of failure.
  const keyChanges = new TypeOrmUnitOfWork(dataSource, { secretBox, clock, decorateAudit });
  const signing = await startSigningKeys(config, logger, { store: repositories.signingKeys, transact: (work) => keyChanges.runOnSigningKeys(work), secretBox, clock, mode: overrides.signingKeys ?? 'manage' }).catch(async (error: unknown) => {
    await database.close().catch(() => undefined);
    await cache.close().catch(() => undefined);
    throw error;
  });
  const { keys } = signing;
  const background = overrides.background ?? true;
  const events = startMessaging(config, logger, dataSource, {}, background);
  const email = startEmailDelivery(config, dataDir, logger, { dataSource, secretBox, clock, mailer: overrides.mailer }, background);
  const passwordStrength = overrides.passwordStrength ?? new ZxcvbnWorkerStrengthEstimator(config.zxcvbn);
  const ownsPasswordStrength = overrides.passwordStrength === undefined;
  const accountRequests = new AccountRequestWorker(new TypeOrmAccountRequestQueue(dataSource), secretBox, clock, logger, {
    ...DEFAULT_ACCOUNT_REQUEST_WORKER_SETTINGS,
    isOutage: (error) => dependencyUnreachable(error) || transactionContended(error),
  });
  // Put on a transaction's after-commit list by the writers: the outbox, the email outbox, account requests.
  const nothing = (): void => undefined;
  const wake = background
    ? {
        relay: () => events.relay.poke(),
        relaySoon: () => events.relay.pokeSoon(),
        emailSender: () => email.sender.poke(),
        accountRequests: () => accountRequests.poke(),
      }
    : { relay: nothing, relaySoon: nothing, emailSender: nothing, accountRequests: nothing };
  const deferred = new DeferredTasks(logger);
  const hasher = new Argon2PasswordHasher(config.argon2);
  // Before the first request: an unknown-account login then costs what a wrong password does from the first on.
  await hasher.warmUp();
  // Before the first request too: the worker's dictionary load (200 ms, seconds on a busy start) is not charged to
  // the first registrations' queue deadline. Not for the CLI's one-shot commands: most score no password, and
  // create-admin's one estimate waits behind no other. Within a deadline: a worker that fails or never answers is
  // logged and given up (the next estimate starts a new one), and the start goes on.
  if (background) {
    const warmUp = await passwordStrength.warmUp();
    if (!warmUp.ok) logger.warn({ reason: warmUp.reason }, 'password strength worker warm-up failed; the first estimate starts a new worker');
  }
  const purges = new PurgeSchedule(
    { intervalMs: background ? config.purgeIntervalSeconds * 1000 : 0, outboxRetentionSeconds: config.events.outboxRetentionSeconds, auditRetentionSeconds: config.auditRetentionSeconds },
    { dataSource, pruneKeys: () => keys.prune(), clock, logger },
  );
  purges.start();
  return {
    clock,
    ids: new UuidGenerator(),
    hasher,
    hashRefusals: hasher.gate.refused,
    strengthRefusals: passwordStrength.gate.refused,
    passwordStrength,
    opaqueTokens: new CryptoOpaqueTokens(),
    clientSecrets,
    totp: new OtpauthTotp(),
    recoveryCodes,
    secretBox,
    keys,
    tokens: new JoseTokenService(keys, {
      issuer: config.jwt.issuer,
      audience: config.jwt.audience,
      accessTokenTtlSeconds: config.jwt.accessTokenTtlSeconds,
      alg: config.jwt.alg,
      verifiedCacheMaxEntries: config.abuse.tokenCacheMaxEntries,
    }),
    mailer: email.mailer,
    email,
    accountRequests,
    // Every unit of work keeps the shared session cache (SessionCacheInvalidation) and, after it, every instance's
    // local validate cache (StateCacheInvalidation, announced after the shared cache is up to date) in step.
    unitOfWork: new StateCacheInvalidation(
      new SessionCacheInvalidation(new TypeOrmUnitOfWork(dataSource, { secretBox, clock, wake, decorateAudit }), cache.sessions, logger),
      cache.local,
      logger,
    ),
    repositories,
    dataSource,
    userDirectory: new TypeOrmUserDirectory(dataSource.manager),
    auditTrail: new TypeOrmAuditTrail(dataSource.manager),
    embeddedDatabase: database.embedded,
    events,
    cache,
    deferred,
    purges,
    background,
    async close() {
      signing.stopRefresh();
      await closeInOrder(logger, [
        // Before the database closes: the batch under way commits, no other starts.
        ['purges', () => purges.close()],
        // Deferred work writes through the unit of work (database, caches, outbox); a task still failing gets one more
        // try and is given up, so a dead database does not hold the shutdown.
        ['deferred work', () => deferred.close()],
        // The worker queues emails: it stops (after the request in hand) before the sender does.
        ['account requests', () => accountRequests.stop()],
        ['email', () => email.close()],
        ['events', () => events.close()],
        ['database', () => database.close()],
        ['cache', () => cache.close()],
        // Last: a request still finishing during shutdown may be waiting for its estimate.
        ['password strength', () => (ownsPasswordStrength ? passwordStrength.close() : undefined)],
      ]);
    },
  };
}

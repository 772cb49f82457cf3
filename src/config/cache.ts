import type { Logger } from 'pino';
import type { Clock } from '@application/ports/clock';
import type { LoginLockout } from '@application/ports/login-lockout';
import type { OtpReplayGuard } from '@application/ports/otp-replay-guard';
import type { RateLimiter } from '@application/ports/rate-limiter';
import type { SecretAttempts } from '@application/ports/secret-attempts';
import type { SessionStateCache } from '@application/ports/session-state-cache';
import { InMemoryLoginLockout } from '@infrastructure/cache/memory/in-memory-login-lockout';
import { InMemoryOtpReplayGuard } from '@infrastructure/cache/memory/in-memory-otp-replay-guard';
import { InMemoryRateLimiter } from '@infrastructure/cache/memory/in-memory-rate-limiter';
import { InMemorySecretAttempts } from '@infrastructure/cache/memory/in-memory-secret-attempts';
import { InMemorySessionStateCache } from '@infrastructure/cache/memory/in-memory-session-state-cache';
import { PassThroughSessionStateCache } from '@infrastructure/cache/memory/pass-through-session-state-cache';
import { connectRedis, redisTakesWrites } from '@infrastructure/cache/redis/redis-connection';
import { RedisKeys } from '@infrastructure/cache/redis/redis-keys';
import { FallbackLoginLockout } from '@infrastructure/cache/redis/fallback-login-lockout';
import { RedisLoginLockout } from '@infrastructure/cache/redis/redis-login-lockout';
import { RedisOtpReplayGuard } from '@infrastructure/cache/redis/redis-otp-replay-guard';
import { RedisRateLimiter } from '@infrastructure/cache/redis/redis-rate-limiter';
import { RedisSecretAttempts } from '@infrastructure/cache/redis/redis-secret-attempts';
import { RedisSessionStateCache } from '@infrastructure/cache/redis/redis-session-state-cache';
import { RedisInvalidationLink } from '@infrastructure/cache/redis/redis-invalidation-link';
import { InProcessInvalidationLink, UnreachableInvalidationLink, type InvalidationLink } from '@infrastructure/cache/local/invalidation-link';
import { LocalStateCache } from '@infrastructure/cache/local/local-state-cache';
import type { AppConfig } from './env';

/** Every instance publishes a heartbeat on the invalidation channel this often ... */
const HEARTBEAT_MS = 200;
/** ... and bypasses its local cache when it has not received its own for this long (a silently dead link) ... */
const HEARTBEAT_SILENCE_MS = 600;
/** ... or when its own came back later than this (a late link: a revocation elsewhere must be seen within 100 ms). */
const HEARTBEAT_MAX_TRANSIT_MS = 100;

/** Tokens are accepted up to 60 s after `exp` (clock skew); a revocation outlives every token naming the session. */
const SKEW_MARGIN_SECONDS = 120;

export interface Cache {
  rateLimiter: RateLimiter;
  lockout: LoginLockout;
  /** Second-factor failures per account: the same rules in a key space of their own. */
  mfaLockout: LoginLockout;
  /** Current-password checks per user. */
  secretAttempts: SecretAttempts;
  /** TOTP steps already used, per user. */
  otpReplay: OtpReplayGuard;
  sessions: SessionStateCache;
  /** The validate path's process-local first tier (see LocalStateCache), kept in step across instances by `link`. */
  local: LocalStateCache;
  /** True with REDIS_URL: shared by every instance. */
  shared: boolean;
  status(): Promise<'up' | 'down'>;
  close(): Promise<void>;
}

/**
 * Redis (one connection per process) when REDIS_URL is set, process memory otherwise. Without Redis the session
 * cache is kept only in embedded mode, which is one process by construction (the data directory lock): with
 * DATABASE_URL other instances may share the database, and a cache of their own would hide a revocation.
 */
/**
 * `encryptionKey`: the service's key, from which the Redis key digests' own key is derived (RedisKeys).
 * `redisAtStart`: `degrade` (the service's default) starts without a Redis that cannot be reached (standalone
 * only), as a running instance serves through an outage, and connects in the background; `require` (the CLI)
 * fails the start instead (see connectRedis).
 */
export async function startCache(
  config: AppConfig,
  clock: Clock,
  logger: Logger,
  encryptionKey: Buffer,
  redisAtStart: 'require' | 'degrade' = 'degrade',
): Promise<Cache> {
  const ttl = {
    ttlSeconds: config.abuse.sessionCacheTtlSeconds,
    revokedTtlSeconds: config.jwt.accessTokenTtlSeconds + SKEW_MARGIN_SECONDS,
  };
  const localCache = (link: InvalidationLink) =>
    new LocalStateCache(link, {
      maxEntries: config.abuse.localCacheMaxEntries,
      // Never longer than SESSION_CACHE_TTL: the bound on what a lost announcement can leave trusted stays that one.
      ttlMs: Math.min(config.abuse.localCacheTtlSeconds, config.abuse.sessionCacheTtlSeconds) * 1000,
    });
  if (config.redisUrl === null) {
    // Embedded mode is the only instance; with DATABASE_URL others may change the database unheard.
    const link = config.databaseUrl === null ? new InProcessInvalidationLink() : new UnreachableInvalidationLink();
    return {
      rateLimiter: new InMemoryRateLimiter(clock),
      lockout: new InMemoryLoginLockout(config.abuse.lockout),
      mfaLockout: new InMemoryLoginLockout(config.abuse.lockout),
      secretAttempts: new InMemorySecretAttempts(),
      otpReplay: new InMemoryOtpReplayGuard(clock),
      sessions: config.databaseUrl === null ? new InMemorySessionStateCache(clock, ttl) : new PassThroughSessionStateCache(),
      local: localCache(link),
      shared: false,
      status: async () => 'up',
      close: async () => undefined,
    };
  }
  let link: RedisInvalidationLink | null = null;
  // A command that got no answer in time: the link may be dead too, so the local cache is not trusted meanwhile.
  // Possibly not connected yet (redisAtStart `degrade`): every adapter below then behaves as in an outage from the
  // start, the session cache distrusted (RedisSessionStateCache) and the link untrusted until its first heartbeat.
  const client = await connectRedis(config.redisUrl, logger, config.redisTopology, () => link?.distrust(), redisAtStart);
  const prefix = config.abuse.redisKeyPrefix;
  const keys = RedisKeys.derive(prefix, encryptionKey);
  link = new RedisInvalidationLink(client, prefix, logger, { heartbeatMs: HEARTBEAT_MS, silenceMs: HEARTBEAT_SILENCE_MS, maxTransitMs: HEARTBEAT_MAX_TRANSIT_MS });
  link.start();
  const sessions = new RedisSessionStateCache(client, prefix, ttl);
  return {
    rateLimiter: new RedisRateLimiter(client, keys, logger),
    lockout: new FallbackLoginLockout(
      new RedisLoginLockout(client, keys, config.abuse.lockout),
      new InMemoryLoginLockout(config.abuse.lockout),
      logger,
      clock,
    ),
    mfaLockout: new FallbackLoginLockout(
      new RedisLoginLockout(client, keys.under('mfa:'), config.abuse.lockout),
      new InMemoryLoginLockout(config.abuse.lockout),
      logger,
      clock,
    ),
    secretAttempts: new RedisSecretAttempts(client, keys, new InMemorySecretAttempts(), logger),
    otpReplay: new RedisOtpReplayGuard(client, keys, new InMemoryOtpReplayGuard(clock), logger),
    sessions,
    local: localCache(link),
    shared: true,
    // Down while Redis refuses writes (a PING still answers: OOM, READONLY) or revocations are still owed to it: the
    // README's promise that an instance whose revocations cannot reach the others reports `cache: down`.
    status: async () => (!sessions.owesWrites() && (await redisTakesWrites(client, `${prefix}health`)) ? 'up' : 'down'),
    async close() {
      await link.close();
      if (client.isOpen) await client.close();
    },
  };
}

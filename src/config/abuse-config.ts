import type { RateLimitPolicy } from '@application/ports/rate-limiter';
import { RATE_LIMIT_GROUPS, type RateLimitGroup } from '@interface/http/routing/route';
import { parseDuration } from './duration';

/** A quota from the environment: `<count>/<window>` (`100/5m`), or `off`. */
export interface RateLimitSpec {
  limit: number;
  windowSeconds: number;
}

export interface AbuseConfig {
  /** null = that limit is off. */
  rateLimits: Record<RateLimitGroup, { ip: RateLimitSpec | null; identifier: RateLimitSpec | null }>;
  /** Per-IP limits count an IPv6 client by its first this-many bits (RATE_LIMIT_IPV6_PREFIX, 32-128, default 64). */
  ipv6Prefix: number;
  lockout: { threshold: number; baseSeconds: number; maxSeconds: number };
  /** Wrong current passwords in a row (any session of the user) after which every session of the user is revoked. */
  currentPasswordMaxFailures: number;
  /** How long a live session's state may be served from the cache when no invalidation reaches it (1-60 s). */
  sessionCacheTtlSeconds: number;
  /** Process-local validate cache (sessions and users): entry lifetime, s (0 = off). */
  localCacheTtlSeconds: number;
  /** Process-local validate cache: entries per kind (sessions, users) (0 = off). */
  localCacheMaxEntries: number;
  /** Verified access tokens remembered per process (signature checks skipped on a hit) (0 = off). */
  tokenCacheMaxEntries: number;
  /** Prefix of every Redis key (several deployments or test runs can share one Redis). */
  redisKeyPrefix: string;
}

/**
 * Defaults: generous for people (a shared office IP, a few typos), tight for scripts. The per-identifier
 * login limit sits above the lockout threshold: lockout answers failures, the limit bounds hashing per account.
 */
const DEFAULTS: Record<RateLimitGroup, { ip: string; identifier: string }> = {
  login: { ip: '100/5m', identifier: '20/5m' },
  register: { ip: '30/5m', identifier: '5/1h' },
  verify: { ip: '30/5m', identifier: '5/15m' },
  password_reset: { ip: '20/5m', identifier: '5/15m' },
  refresh: { ip: '300/5m', identifier: '60/5m' },
  // Password change, credentials update, account deletion: argon2 and emails per call, rare for people.
  current_password: { ip: '60/5m', identifier: '10/15m' },
  // The second login step: per IP at the route, per account (whatever the IP) once the mfa_token names it. The
  // account's MFA lockout (LOCKOUT_THRESHOLD wrong codes) bites long before the per-account quota.
  mfa: { ip: '60/5m', identifier: '20/15m' },
  // TOTP set-up and enabling, per IP and per signed-in user.
  mfa_setup: { ip: '60/5m', identifier: '20/15m' },
  // Profile updates: no hash, but a username change answers whether the name is taken (outside review, 2026-12-02:
  // unlimited, it listed usernames, the login identifiers, at a transaction each).
  profile: { ip: '60/5m', identifier: '20/15m' },
  // Services, not people: tokens (cached by the SDK until near expiry).
  oauth: { ip: '3000/5m', identifier: '3000/5m' },
  // Introspection runs on requests (the SDK caches each answer 5 s): 200/s per client and per IP. A group of its own
  // since 2026-12-04: shared with /oauth/token, a verifier's introspections spent the quota the same client needed for
  // its own tokens (an outside review).
  introspect: { ip: '60000/5m', identifier: '60000/5m' },
  // Revocations (a gateway's, at each of its users' logouts), as many as oauth allows. A group of its own since
  // 2026-12-06: shared with /oauth/token, a client's revocations spent the quota it needed for its own tokens (a review).
  revoke: { ip: '3000/5m', identifier: '3000/5m' },
};

type Env = Record<string, string | undefined>;

/** Reads and validates the abuse-resistance settings; problems are appended to `problems`. */
export function readAbuseConfig(env: Env, problems: string[]): AbuseConfig {
  const raw = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  };
  const spec = (name: string, fallback: string): RateLimitSpec | null => {
    const value = raw(name) ?? fallback;
    const parsed = parseRateLimit(value);
    if (parsed === undefined) {
      problems.push(`${name} must be <count>/<window> like 100/5m (count 1-100000, window 1s-24h) or off (got "${value}")`);
      return parseRateLimit(fallback) ?? null;
    }
    return parsed;
  };
  const seconds = (name: string, fallback: string, min: number, max: number): number => {
    const value = raw(name) ?? fallback;
    const parsed = parseDuration(value);
    if (parsed === null || parsed < min || parsed > max) {
      problems.push(`${name} must be a duration with its unit, like 30s, 15m or 24h, between ${min}s and ${max}s (got "${value}")`);
      return parseDuration(fallback) ?? min;
    }
    return parsed;
  };
  const count = (name: string, fallback: number): number => {
    const value = wholeNumber(raw(name) ?? String(fallback));
    if (Number.isInteger(value) && value >= 0 && value <= 1_000_000) return value;
    problems.push(`${name} must be an integer from 0 to 1000000 (got "${raw(name)}")`);
    return fallback;
  };
  const rateLimits = {} as AbuseConfig['rateLimits'];
  for (const group of RATE_LIMIT_GROUPS) {
    const name = `RATE_LIMIT_${group.toUpperCase()}`;
    rateLimits[group] = { ip: spec(`${name}_IP`, DEFAULTS[group].ip), identifier: spec(`${name}_ID`, DEFAULTS[group].identifier) };
  }
  const threshold = wholeNumber(raw('LOCKOUT_THRESHOLD') ?? '5');
  if (!Number.isInteger(threshold) || threshold < 1 || threshold > 1000) {
    problems.push(`LOCKOUT_THRESHOLD must be an integer from 1 to 1000 (got "${raw('LOCKOUT_THRESHOLD')}")`);
  }
  const ipv6Prefix = wholeNumber(raw('RATE_LIMIT_IPV6_PREFIX') ?? '64');
  if (!Number.isInteger(ipv6Prefix) || ipv6Prefix < 32 || ipv6Prefix > 128) {
    problems.push(`RATE_LIMIT_IPV6_PREFIX must be an integer from 32 to 128 (got "${raw('RATE_LIMIT_IPV6_PREFIX')}")`);
  }
  const baseSeconds = seconds('LOCKOUT_DURATION', '15m', 1, 7 * 86400);
  const maxSeconds = seconds('LOCKOUT_MAX_DURATION', '24h', 1, 30 * 86400);
  if (maxSeconds < baseSeconds) problems.push('LOCKOUT_MAX_DURATION must not be shorter than LOCKOUT_DURATION');
  const maxFailures = wholeNumber(raw('CURRENT_PASSWORD_MAX_FAILURES') ?? '5');
  if (!Number.isInteger(maxFailures) || maxFailures < 1 || maxFailures > 100) {
    problems.push(`CURRENT_PASSWORD_MAX_FAILURES must be an integer from 1 to 100 (got "${raw('CURRENT_PASSWORD_MAX_FAILURES')}")`);
  }
  return {
    rateLimits,
    ipv6Prefix: Number.isInteger(ipv6Prefix) && ipv6Prefix >= 32 && ipv6Prefix <= 128 ? ipv6Prefix : 64,
    lockout: { threshold: Number.isInteger(threshold) ? threshold : 5, baseSeconds, maxSeconds },
    currentPasswordMaxFailures: Number.isInteger(maxFailures) ? maxFailures : 5,
    // At most 60 s: a live entry another instance cached is what a lost revocation write leaves trusted.
    sessionCacheTtlSeconds: seconds('SESSION_CACHE_TTL', '30s', 1, 60),
    // A safety net only (invalidations drop entries at once): short, and bounded like SESSION_CACHE_TTL.
    localCacheTtlSeconds: seconds('LOCAL_CACHE_TTL', '10s', 0, 60),
    localCacheMaxEntries: count('LOCAL_CACHE_MAX_ENTRIES', 10_000),
    tokenCacheMaxEntries: count('TOKEN_CACHE_MAX_ENTRIES', 10_000),
    redisKeyPrefix: redisKeyPrefix(raw('REDIS_KEY_PREFIX') ?? 'auth:', problems),
  };
}

/**
 * Braces are refused: Redis Cluster hashes only the first `{...}` of a key, and the keys that one script touches
 * carry their own hash tag after the prefix (one slot per identifier); a brace in the prefix would take its place.
 */
function redisKeyPrefix(value: string, problems: string[]): string {
  if (!/[{}]/.test(value)) return value;
  problems.push(`REDIS_KEY_PREFIX must not contain "{" or "}" (Redis Cluster hash tags) (got "${value}")`);
  return 'auth:';
}

/** `off` -> null; `<count>/<window>` -> the spec; anything else -> undefined. */
export function parseRateLimit(value: string): RateLimitSpec | null | undefined {
  if (value.toLowerCase() === 'off') return null;
  const match = /^(\d+)\s*\/\s*(\S+)$/.exec(value);
  if (!match) return undefined;
  const limit = Number(match[1]);
  const windowSeconds = parseDuration(match[2]!);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100_000) return undefined;
  if (windowSeconds === null || windowSeconds < 1 || windowSeconds > 86400) return undefined;
  return { limit, windowSeconds };
}

/** The quotas as named policies (`login-ip`, `password-reset-id` ...): the names appear in RateLimit headers and keys. */
export function rateLimitPolicies(
  limits: AbuseConfig['rateLimits'],
): Record<RateLimitGroup, { ip: RateLimitPolicy | null; identifier: RateLimitPolicy | null }> {
  const named = (group: RateLimitGroup, kind: 'ip' | 'id', spec: RateLimitSpec | null): RateLimitPolicy | null =>
    spec ? { name: `${group.replace('_', '-')}-${kind}`, ...spec } : null;
  const out = {} as Record<RateLimitGroup, { ip: RateLimitPolicy | null; identifier: RateLimitPolicy | null }>;
  for (const group of RATE_LIMIT_GROUPS) {
    out[group] = { ip: named(group, 'ip', limits[group].ip), identifier: named(group, 'id', limits[group].identifier) };
  }
  return out;
}

/**
 * Digits only, as Reader.int reads them: Number() also takes "0x10", "1e3" and "5.0" (an outside review, stop 49,
 * saw LOCAL_CACHE_MAX_ENTRIES=0x10 start with 16 entries); anything else is NaN, which every caller refuses.
 */
function wholeNumber(value: string): number {
  return /^\d{1,16}$/.test(value) ? Number(value) : Number.NaN;
}

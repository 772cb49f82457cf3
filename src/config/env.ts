import { hasExtras, isOrigin } from './url-checks';
import { isIP } from 'node:net';
import { availableParallelism } from 'node:os';
import { type AbuseConfig, readAbuseConfig } from './abuse-config';
import { type Env, Reader, shownUrl } from './env-reader';
import { crossProblems, productionProblems, workerProblems } from './env-problems';

export type JwtAlg = 'EdDSA' | 'ES256' | 'RS256';

export interface AppConfig {
  env: 'development' | 'production' | 'test';
  port: number;
  host: string;
  logLevel: string;
  dataDir: string;
  databaseUrl: string | null;
  redisUrl: string | null;
  amqpUrl: string | null;
  smtpUrl: string | null;
  /**
   * SMTP_TLS_REJECT_UNAUTHORIZED (default true; false refused in production), SMTP_REQUIRE_TLS (default true in
   * production, false otherwise: STARTTLS when offered).
   */
  smtpTls: { rejectUnauthorized: boolean; requireTls: boolean };
  /** EMAIL_MAX_ATTEMPTS (10), EMAIL_MAX_AGE (3d): then a queued email is marked failed instead of retried. */
  emailQueue: { maxAttempts: number; maxAgeSeconds: number };
  migrateOnStart: boolean;
  encryptionKey: string | null;
  /**
   * ENCRYPTION_KEYS_PREVIOUS (none): keys a value may still be sealed or digested under, comma-separated, at most
   * 4, none the current key: opened and checked, never sealed with. For a key change: docs/key-rotation.md.
   */
  previousEncryptionKeys: string[];
  /**
   * ENCRYPTION_LEGACY_VALUES (`accept`): whether values sealed before contexts (format v1, until 2026-12-04) still
   * open. They open under any context, so a retained one (a backup) could be pasted into another row; once `reseal`
   * has sealed every row anew, `refuse` closes that (docs/key-rotation.md).
   */
  legacySealedValues: 'accept' | 'refuse';
  publicUrl: string;
  mailFrom: string;
  corsOrigins: string[];
  trustedProxies: string[];
  /**
   * HTTP_KEEP_ALIVE_TIMEOUT (5s, Node's default; 1s-300s): how long an idle connection stays open. Behind a proxy
   * that keeps connections to the service (nginx upstream keepalive, a cloud load balancer: often 60 s), set it
   * above the proxy's idle timeout, or the proxy now and then sends a request on a connection the service is
   * closing and answers its client 502.
   */
  keepAliveTimeoutSeconds: number;
  bodyLimitBytes: number;
  jwt: { issuer: string; audience: string; alg: JwtAlg; accessTokenTtlSeconds: number };
  session: { refreshTokenTtlSeconds: number; maxLifetimeSeconds: number; refreshGraceSeconds: number; maxPerUser: number };
  requireEmailVerification: boolean;
  passwordMinLength: number;
  verificationTokenTtlSeconds: number;
  argon2: { memoryCost: number; timeCost: number; parallelism: number; concurrency: number; queueTimeoutMs: number };
  /** ZXCVBN_QUEUE_TIMEOUT (2s, 1-9 s): the longest a password strength estimate waits for the worker, then 503. */
  zxcvbn: { queueTimeoutMs: number };
  /** Rate limits, lockout, session cache (issue 4): see abuse-config.ts. */
  abuse: AbuseConfig;
  /**
   * Domain events: RabbitMQ exchange and queue names (AMQP_URL set), outbox retention, and the type of the
   * subscriber queues (AMQP_QUEUE_TYPE: classic, the default, or quorum: replicated across a RabbitMQ cluster);
   * AMQP_TRUSTED_PUBLISHERS: the broker users whose events the subscribers act on (empty: AMQP_URL's own).
   */
  events: { exchange: string; queuePrefix: string; outboxRetentionSeconds: number; queueType: 'classic' | 'quorum'; trustedPublishers: string[] };
  /**
   * AUDIT_RETENTION: `purge-expired` deletes audit entries older than this (at least 1d); 0 (the default) keeps them
   * for ever. They name accounts, IP addresses and user agents, and outlive an account's deletion.
   */
  auditRetentionSeconds: number;
  /** PURGE_INTERVAL: the service runs `purge-expired` itself this often (config/purge-schedule.ts); 0 = never. */
  purgeIntervalSeconds: number;
  /** METRICS_TOKEN: when set, GET /metrics requires `Authorization: Bearer <token>` (at least 16 characters). */
  metricsToken: string | null;
  /** MFA_ISSUER: the name authenticator apps show beside the account (default "auth-service"). */
  mfa: { issuer: string };
  /**
   * WORKERS: HTTP worker processes (node:cluster) sharing PORT; 1 (default) = no cluster; `auto` = the cores
   * available (os.availableParallelism()). More than 1 needs DATABASE_URL and REDIS_URL (see workerProblems).
   */
  workers: number;
  /** DATABASE_POOL_SIZE: connections each process keeps to PostgreSQL (or PgBouncer); default 10. */
  databasePoolSize: number;
  /**
   * DATABASE_PREPARED_STATEMENTS: the hottest statements as named prepared statements (parsed and planned once per
   * connection); default true. Set false behind PgBouncer before 1.21 in transaction mode (README, PgBouncer).
   */
  databasePreparedStatements: boolean;
  /**
   * DATABASE_QUERY_TIMEOUT (10s, 1-10 s): the serving process's longest wait for a query's answer and for a
   * connection of its pool; past it the connection is destroyed and the request answers 503 (config/database.ts).
   */
  databaseQueryTimeoutMs: number;
  /**
   * REDIS_MODE (standalone, the default; cluster: REDIS_URL lists seed nodes; sentinel: REDIS_URL lists Sentinels and
   * REDIS_SENTINEL_MASTER names the monitored master), REDIS_SENTINEL_PASSWORD (the Sentinels' own, if any).
   */
  redisTopology: { mode: 'standalone' | 'cluster' | 'sentinel'; sentinelMaster: string | null; sentinelPassword: string | null };
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }

  /** The problems on one line: what a command prints on stderr (CONTRACT §8: one line). */
  get oneLine(): string {
    return `Invalid configuration: ${this.problems.join('; ')}`;
  }
}

/** Reads and validates the environment; every bad or missing variable is named in one error. */
export function loadConfig(env: Env = process.env): AppConfig {
  const problems: string[] = [];
  const read = new Reader(env, problems);
  const nodeEnv = read.oneOf('NODE_ENV', ['development', 'production', 'test'] as const, 'development');
  const port = read.int('PORT', 3000, 0, 65535);
  const publicUrl = read.url('APP_PUBLIC_URL', `http://localhost:${port}`);
  const redisMode = read.oneOf('REDIS_MODE', ['standalone', 'cluster', 'sentinel'] as const, 'standalone');
  const config: AppConfig = {
    env: nodeEnv,
    port,
    host: read.string('HOST', '127.0.0.1'),
    logLevel: read.oneOf('LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, 'info'),
    dataDir: read.string('DATA_DIR', './data'),
    databaseUrl: read.optionalUrl('DATABASE_URL', ['postgres:', 'postgresql:']),
    redisUrl: redisMode === 'standalone' ? read.optionalUrl('REDIS_URL', ['redis:', 'rediss:']) : read.optionalUrlList('REDIS_URL', ['redis:', 'rediss:']),
    amqpUrl: read.optionalUrl('AMQP_URL', ['amqp:', 'amqps:']),
    smtpUrl: read.optionalUrl('SMTP_URL', ['smtp:', 'smtps:']),
    smtpTls: {
      rejectUnauthorized: read.bool('SMTP_TLS_REJECT_UNAUTHORIZED', true),
      requireTls: read.bool('SMTP_REQUIRE_TLS', nodeEnv === 'production'),
    },
    migrateOnStart: read.bool('MIGRATE_ON_START', false),
    encryptionKey: read.optionalString('ENCRYPTION_KEY'),
    previousEncryptionKeys: read.list('ENCRYPTION_KEYS_PREVIOUS'),
    legacySealedValues: read.oneOf('ENCRYPTION_LEGACY_VALUES', ['accept', 'refuse'] as const, 'accept'),
    publicUrl,
    mailFrom: read.mailbox('MAIL_FROM', 'auth-service <no-reply@localhost>'),
    emailQueue: { maxAttempts: read.int('EMAIL_MAX_ATTEMPTS', 10, 1, 1000), maxAgeSeconds: read.duration('EMAIL_MAX_AGE', '3d', 60, 30 * 86400) },
    corsOrigins: read.list('CORS_ORIGINS'),
    trustedProxies: read.list('TRUSTED_PROXIES'),
    keepAliveTimeoutSeconds: read.duration('HTTP_KEEP_ALIVE_TIMEOUT', '5s', 1, 300),
    bodyLimitBytes: read.int('BODY_LIMIT_BYTES', 16 * 1024, 1024, 1024 * 1024),
    jwt: {
      issuer: read.string('JWT_ISSUER', publicUrl),
      audience: read.string('JWT_AUDIENCE', 'auth-service'),
      alg: read.oneOf('JWT_ALG', ['EdDSA', 'ES256', 'RS256'] as const, 'EdDSA'),
      accessTokenTtlSeconds: read.duration('ACCESS_TOKEN_TTL', '15m', 60, MAX_ACCESS_TOKEN_TTL_SECONDS),
    },
    session: {
      refreshTokenTtlSeconds: read.duration('REFRESH_TOKEN_TTL', '30d', 60, 365 * 86400),
      maxLifetimeSeconds: read.duration('SESSION_MAX_LIFETIME', '90d', 60, 3 * 365 * 86400),
      refreshGraceSeconds: read.duration('REFRESH_GRACE_PERIOD', '10s', 0, 300),
      maxPerUser: read.int('SESSION_MAX_PER_USER', 100, 1, 10_000),
    },
    requireEmailVerification: read.bool('REQUIRE_EMAIL_VERIFICATION', true),
    passwordMinLength: read.int('PASSWORD_MIN_LENGTH', 8, 8, 128),
    verificationTokenTtlSeconds: read.duration('VERIFICATION_TOKEN_TTL', '24h', 300, 7 * 86400),
    argon2: {
      // OWASP's floor (19 MiB, 2 passes) everywhere but NODE_ENV=test, where suites not about hashing may go lower.
      memoryCost: read.int('ARGON2_MEMORY_COST', 19456, nodeEnv === 'test' ? 8 : 19456, 4 * 1024 * 1024),
      timeCost: read.int('ARGON2_TIME_COST', 2, nodeEnv === 'test' ? 1 : 2, 20),
      parallelism: read.int('ARGON2_PARALLELISM', 1, 1, 16),
      // Hashes at once: one per core is the full rate; more only add 19 MiB blocks and hold the libuv pool.
      concurrency: read.int('ARGON2_CONCURRENCY', availableParallelism(), 1, 64),
      // The longest wait for a slot, then 503: below the shutdown grace (10 s), so a SIGTERM's queue is answered.
      queueTimeoutMs: read.duration('ARGON2_QUEUE_TIMEOUT', '5s', 1, 9) * 1000,
    },
    // The strength estimate's wait for the zxcvbn worker, bounded as the hasher's (2 s: 75-330 of the slowest estimates).
    zxcvbn: { queueTimeoutMs: read.duration('ZXCVBN_QUEUE_TIMEOUT', '2s', 1, 9) * 1000 },
    abuse: readAbuseConfig(env, problems),
    events: {
      exchange: read.string('AMQP_EXCHANGE', 'auth.events'),
      queuePrefix: read.string('AMQP_QUEUE_PREFIX', 'auth-service.'),
      outboxRetentionSeconds: read.duration('OUTBOX_RETENTION', '7d', 3600, 365 * 86400),
      queueType: read.oneOf('AMQP_QUEUE_TYPE', ['classic', 'quorum'] as const, 'classic'),
      // Broker users whose events the subscribers act on; empty: AMQP_URL's own user. `*`: every message.
      trustedPublishers: read.list('AMQP_TRUSTED_PUBLISHERS'),
    },
    auditRetentionSeconds: read.duration('AUDIT_RETENTION', '0', 0, 100 * 365 * 86400),
    purgeIntervalSeconds: read.duration('PURGE_INTERVAL', '24h', 0, 7 * 86400),
    metricsToken: read.optionalString('METRICS_TOKEN'),
    mfa: { issuer: read.string('MFA_ISSUER', 'auth-service') },
    workers: readWorkers(env, problems),
    databasePoolSize: read.int('DATABASE_POOL_SIZE', 10, 1, 1000),
    databasePreparedStatements: read.bool('DATABASE_PREPARED_STATEMENTS', true),
    // At most 10 s: a query past its deadline (plus the cancel's grace) still answers 503 well within the 15 s the
    // HTTP server lets a request sit with no I/O before it destroys the connection (http-server.ts); at 16-20 s
    // the client got an empty reply instead. A query sent in the 10-s shutdown grace also ends inside its 30 s.
    databaseQueryTimeoutMs: read.duration('DATABASE_QUERY_TIMEOUT', '10s', 1, MAX_DATABASE_QUERY_TIMEOUT_SECONDS) * 1000,
    redisTopology: {
      mode: redisMode,
      sentinelMaster: read.optionalString('REDIS_SENTINEL_MASTER'),
      sentinelPassword: read.optionalString('REDIS_SENTINEL_PASSWORD'),
    },
  };
  problems.push(...workerProblems(config));
  if (redisMode !== 'standalone' && !env.REDIS_URL?.trim()) problems.push(`REDIS_MODE=${redisMode} needs REDIS_URL (comma-separated node URLs)`);
  if (redisMode === 'sentinel' && config.redisTopology.sentinelMaster === null) problems.push('REDIS_MODE=sentinel needs REDIS_SENTINEL_MASTER (the master name the Sentinels monitor)');
  problems.push(...crossProblems(env, config));
  if ((config.metricsToken?.length ?? 16) < 16) problems.push('METRICS_TOKEN must be at least 16 characters');
  if (config.auditRetentionSeconds > 0 && config.auditRetentionSeconds < 86400) problems.push('AUDIT_RETENTION must be 0 (keep for ever) or at least 1d');
  // Shorter only under NODE_ENV=test (a suite that watches it run): each run scans every table it purges.
  if (config.purgeIntervalSeconds > 0 && config.purgeIntervalSeconds < 3600 && nodeEnv !== 'test') problems.push('PURGE_INTERVAL must be 0 (off) or at least 1h');
  const badProxies = config.trustedProxies.filter((entry) => !isAddressOrRange(entry));
  if (badProxies.length > 0) {
    problems.push(`TRUSTED_PROXIES must list IP addresses or CIDR ranges (e.g. 10.0.0.0/8, fd00::/8), not host names (got "${badProxies.join('", "')}")`);
  }
  // An origin is scheme://host[:port] exactly as browsers send it: `*`, a path or a trailing slash never matches one,
  // so CORS was silently off (accepted until 2026-12-02: an outside review).
  const badOrigins = config.corsOrigins.filter((entry) => !isOrigin(entry));
  if (badOrigins.length > 0) {
    problems.push(`CORS_ORIGINS must list origins like https://app.example.com (scheme, host and port only; no "*", path or trailing slash) (got "${badOrigins.map(shownUrl).join('", "')}")`);
  }
  // nodemailer reads options from the URL's query and lets them win over the explicit ones: `?tls.rejectUnauthorized=false`
  // or `?requireTLS=false` turned the SMTP TLS checks off, in production too, while the configuration said they were on
  // (an outside review, stop 48). The TLS settings are SMTP_TLS_*; the URL says where, and who.
  if (config.smtpUrl !== null && /[?#]/.test(config.smtpUrl)) problems.push('SMTP_URL takes no query or fragment (nodemailer would read options from it): use SMTP_TLS_REJECT_UNAUTHORIZED and SMTP_REQUIRE_TLS for TLS');
  // It goes into every emailed link, the default JWT_ISSUER and a start-up log line: never credentials, a query or a fragment.
  if (hasExtras(config.publicUrl)) problems.push('APP_PUBLIC_URL must be a plain http(s) URL: no user or password, query or fragment');
  // The issuer is the otpauth URI's label prefix: a colon would split it, and apps show it whole.
  if (config.mfa.issuer.includes(':') || config.mfa.issuer.length > 64) problems.push('MFA_ISSUER must be at most 64 characters, without ":"');
  if (config.env === 'production') problems.push(...productionProblems(env, config));
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

const MAX_WORKERS = 256;

/** The longest ACCESS_TOKEN_TTL accepted; also how long a retired signing key of unrecorded token lifetime stays published. */
export const MAX_ACCESS_TOKEN_TTL_SECONDS = 24 * 3600;
/** DATABASE_QUERY_TIMEOUT's upper bound: inside the HTTP server's stalled-socket limit (STALLED_SOCKET_TIMEOUT_MS). */
export const MAX_DATABASE_QUERY_TIMEOUT_SECONDS = 10;

function readWorkers(env: Env, problems: string[]): number {
  const raw = env.WORKERS?.trim().toLowerCase();
  if (raw === undefined || raw === '') return 1;
  if (raw === 'auto') return Math.min(availableParallelism(), MAX_WORKERS);
  const value = /^\d{1,4}$/.test(raw) ? Number(raw) : Number.NaN;
  if (Number.isInteger(value) && value >= 1 && value <= MAX_WORKERS) return value;
  problems.push(`WORKERS must be "auto" or an integer from 1 to ${MAX_WORKERS} (got "${raw}")`);
  return 1;
}

/** An IPv4 or IPv6 address, optionally with a prefix length in its family's range (0-32, 0-128). */
function isAddressOrRange(entry: string): boolean {
  const [address = '', prefix, extra] = entry.trim().split('/');
  const family = isIP(address);
  if (family === 0 || extra !== undefined) return false;
  return prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128));
}

import { parseEncryptionKey } from '@infrastructure/security/crypto/aes-gcm-secret-box';
import { type Env, isUrl, shownUrl } from './env-reader';
import { hasExtras } from './url-checks';

/** What these checks read of AppConfig (env.ts imports this module, so the type is not imported back). */
interface CheckedConfig {
  env: string;
  publicUrl: string;
  encryptionKey: string | null;
  previousEncryptionKeys: readonly string[];
  databaseUrl: string | null;
  redisUrl: unknown;
  workers: number;
  jwt: { issuer: string };
  smtpTls: { rejectUnauthorized: boolean };
  mailFrom: string;
  redisTopology: { mode: string };
}

/**
 * Settings read together: one set without what makes it read, and the encryption key's format, listed with every
 * other problem (an outside review, 2026-12-03: REDIS_SENTINEL_MASTER without REDIS_MODE=sentinel was silently
 * ignored, and a malformed ENCRYPTION_KEY was reported alone once the rest were fixed).
 */
export function crossProblems(env: Env, config: CheckedConfig): string[] {
  const problems: string[] = [];
  for (const name of ['REDIS_SENTINEL_MASTER', 'REDIS_SENTINEL_PASSWORD']) {
    if (config.redisTopology.mode !== 'sentinel' && env[name]?.trim()) problems.push(`${name} is read only with REDIS_MODE=sentinel (got REDIS_MODE=${config.redisTopology.mode})`);
  }
  if (config.encryptionKey !== null) {
    try {
      parseEncryptionKey(config.encryptionKey);
    } catch (error) {
      problems.push((error as Error).message);
    }
  }
  problems.push(...previousKeyProblems(config.encryptionKey, config.previousEncryptionKeys));
  return problems;
}

/** At most this many previous keys: each costs a decryption of every value sealed under an older one. */
export const MAX_PREVIOUS_ENCRYPTION_KEYS = 4;

/**
 * ENCRYPTION_KEYS_PREVIOUS: each a key as ENCRYPTION_KEY is, none twice, none the current key (a key listed as
 * both would seal and open: harmless but a sign of a half-done change). Entries are named by position, never
 * echoed. The current key from the key file (embedded mode) is checked at start (checkPreviousKeys).
 */
function previousKeyProblems(current: string | null, previous: readonly string[]): string[] {
  const problems: string[] = [];
  if (previous.length > MAX_PREVIOUS_ENCRYPTION_KEYS) problems.push(`ENCRYPTION_KEYS_PREVIOUS holds ${previous.length} keys: at most ${MAX_PREVIOUS_ENCRYPTION_KEYS}`);
  const seen: string[] = [];
  if (current !== null) {
    try {
      seen.push(parseEncryptionKey(current).toString('hex'));
    } catch {
      // Reported above.
    }
  }
  previous.forEach((raw, index) => {
    let hex: string;
    try {
      hex = parseEncryptionKey(raw).toString('hex');
    } catch {
      problems.push(`ENCRYPTION_KEYS_PREVIOUS entry ${index + 1} is not a key: 32 bytes as 64 hex characters or base64/base64url`);
      return;
    }
    if (seen.includes(hex)) problems.push(`ENCRYPTION_KEYS_PREVIOUS entry ${index + 1} is ${seen.indexOf(hex) === 0 && current !== null ? 'ENCRYPTION_KEY itself' : 'listed twice'}`);
    seen.push(hex);
  });
  return problems;
}

/**
 * Production refuses what would leak or be forgeable: missing servers or keys, links and an issuer over plain
 * http (tokens in emailed links, RFC 8414 issuer), and SMTP that accepts any certificate. Every problem at once.
 */
export function productionProblems(env: Env, config: CheckedConfig): string[] {
  const problems: string[] = [];
  for (const name of ['DATABASE_URL', 'REDIS_URL', 'AMQP_URL', 'SMTP_URL', 'ENCRYPTION_KEY']) {
    if (!env[name]?.trim()) problems.push(`${name} is required when NODE_ENV=production`);
  }
  const insecure = (value: string): boolean => !isUrl(value, ['https:']);
  if (insecure(config.publicUrl)) problems.push(`APP_PUBLIC_URL must be an https URL when NODE_ENV=production (got "${shownUrl(config.publicUrl)}")`);
  if (insecure(config.jwt.issuer)) problems.push(`JWT_ISSUER must be an https URL when NODE_ENV=production (got "${shownUrl(config.jwt.issuer)}")`);
  // RFC 8414 §2: an issuer has no query or fragment (accepted until an outside review, 2026-12-03).
  else if (hasExtras(config.jwt.issuer)) problems.push('JWT_ISSUER must be a plain https URL: no user or password, query or fragment (RFC 8414)');
  if (!config.smtpTls.rejectUnauthorized) problems.push('SMTP_TLS_REJECT_UNAUTHORIZED=false is not allowed when NODE_ENV=production');
  // The default sender's domain is localhost: relays that check senders refuse it, every mail then waits out
  // EMAIL_MAX_AGE, and with verification required nobody new can sign in (an outside review, stop 48).
  const senderDomain = /@([^@>\s]+)>?\s*$/.exec(config.mailFrom)?.[1]?.toLowerCase() ?? '';
  if (!env.MAIL_FROM?.trim()) problems.push('MAIL_FROM is required when NODE_ENV=production (the default sender no-reply@localhost is refused by relays that check senders)');
  else if (senderDomain === 'localhost' || !senderDomain.includes('.')) problems.push(`MAIL_FROM must be an address of a real domain when NODE_ENV=production (got the domain "${senderDomain}")`);
  if (config.encryptionKey !== null && !looksRandom(config.encryptionKey)) {
    problems.push('ENCRYPTION_KEY does not look random (fewer than 16 different bytes of 32: a placeholder such as 64 zeros?); generate one with: node -e "console.log(require(\'crypto\').randomBytes(32).toString(\'base64url\'))"');
  }
  return problems;
}

/**
 * Whether a well-formed key has the variety of a random one: 32 random bytes hold about 30 different values, and
 * fewer than 16 happens with a probability below 10^-15; a placeholder (64 zeros, `0123...` repeated) holds a few.
 * Until 2026-12-05 a production start took 64 zeros (a security review). A malformed key is reported elsewhere.
 */
function looksRandom(raw: string): boolean {
  try {
    return new Set(parseEncryptionKey(raw)).size >= 16;
  } catch {
    return true;
  }
}

/**
 * Several worker processes need shared state: the embedded PostgreSQL (PGlite) is one process's (its data
 * directory is locked), and in-memory rate limits, lockout counters and the session cache would be per worker
 * (a logout on one worker unseen by another's cache).
 */
export function workerProblems(config: CheckedConfig): string[] {
  if (config.workers <= 1) return [];
  const problems: string[] = [];
  if (config.databaseUrl === null) {
    problems.push(
      `WORKERS=${config.workers} needs DATABASE_URL: the embedded PostgreSQL (PGlite) runs in one process only (its data directory is locked); use WORKERS=1 in embedded mode`,
    );
  }
  if (config.redisUrl === null) {
    problems.push(
      `WORKERS=${config.workers} needs REDIS_URL: rate limits, lockout counters and the session cache must be shared by the workers`,
    );
  }
  return problems;
}


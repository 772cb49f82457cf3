import pino, { type Logger } from 'pino';

/**
 * Secrets never reach a log line: known secret-bearing keys are censored wherever they appear (two levels
 * deep and in request headers), and callers log ids, never bodies.
 */
export const REDACT_PATHS = [
  'password', 'current_password', 'new_password', 'token', 'access_token', 'refresh_token', 'mfa_token', 'secret',
  'code', 'backup_code', 'authorization', 'cookie', 'passwordHash', 'password_hash', 'refreshToken', 'accessToken',
  'sealedRefreshToken', 'privateKey', 'encryptionKey', 'previousEncryptionKeys', 'databaseUrl', 'redisUrl', 'amqpUrl', 'smtpUrl',
  'client_secret', 'clientSecret', 'secretHash', 'secret_hash',
  // The stored forms too (a review of stop 62: no call logs them, and one careless field would print them).
  'hash', 'tokenHash', 'refreshTokenHash', 'previousTokenHash', 'retiredTokenHashes', 'codeHashes', 'sealedSecret',
  'sealedPrivateKey', 'sealedPayload', 'backup_codes', 'otpauth_uri', 'qr_data_url', 'credentials',
].flatMap((key) => [key, `*.${key}`, `*.*.${key}`]).concat([
  'req.headers.authorization', 'req.headers.cookie', 'headers.authorization', 'headers.cookie',
  'res.headers["set-cookie"]',
]);

/** How deep `cause` chains are followed; a cycle or a deeper chain ends in "[cause omitted]". */
const MAX_CAUSE_DEPTH = 3;

/**
 * The `err` field: an error's class, code, message and stack, nothing else. pino's default copies every
 * enumerable property, and TypeORM's QueryFailedError carries the SQL (`query`), its `parameters` (password
 * hashes, token digests, sealed values, emails), the `driverError` and PostgreSQL's `detail` ("Failing row
 * contains (...)", "Key (email)=(...) already exists"). PostgreSQL's message names the constraint or the
 * problem, not the row, so it stays; the stack's first line is that message and the rest are code locations.
 * A string (callers that log `err: describe(error)`) is kept as given.
 */
export function serializeError(value: unknown, depth = 0): unknown {
  if (value === null || typeof value !== 'object') return value;
  // A thrown non-Error object may be a driver's row or anything else: only its kind is told.
  if (!(value instanceof Error)) return { type: value.constructor?.name ?? 'Object' };
  const raw = value as Error & { code?: unknown; cause?: unknown };
  const out: Record<string, unknown> = { type: value.constructor?.name ?? value.name, message: value.message };
  if (typeof raw.code === 'string' || typeof raw.code === 'number') out.code = new ErrorCode(raw.code);
  if (value.stack !== undefined) out.stack = value.stack;
  if (raw.cause !== undefined) out.cause = depth < MAX_CAUSE_DEPTH ? serializeError(raw.cause, depth + 1) : '[cause omitted]';
  return out;
}

/**
 * `*.code` is redacted (MFA codes); an error's own code ("23505", "ECONNREFUSED") is what serializeError keeps
 * on purpose. It travels in this wrapper, which only serializeError creates, and the censor lets it through.
 */
class ErrorCode {
  constructor(readonly value: string | number) {}

  toJSON(): string | number {
    return this.value;
  }
}

function censor(value: unknown): unknown {
  return value instanceof ErrorCode ? value.value : '[redacted]';
}

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'auth-service' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT_PATHS, censor },
      serializers: { err: (value: unknown) => serializeError(value) },
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}

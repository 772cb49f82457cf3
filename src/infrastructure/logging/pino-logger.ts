import pino, { type Logger } from 'pino';

/**
 * Secrets never reach a log line: known secret-bearing keys are censored wherever they appear (two levels
 * deep and in request headers), and callers log ids, never bodies.
 */
export const REDACT_PATHS = [
  'password', 'current_password', 'new_password', 'token', 'access_token', 'refresh_token', 'mfa_token', 'secret',
  'code', 'backup_code', 'authorization', 'cookie', 'passwordHash', 'password_hash', 'refreshToken', 'accessToken',
  'sealedRefreshToken', 'privateKey', 'encryptionKey', 'databaseUrl', 'redisUrl', 'amqpUrl', 'smtpUrl',
].flatMap((key) => [key, `*.${key}`, `*.*.${key}`]).concat([
  'req.headers.authorization', 'req.headers.cookie', 'headers.authorization', 'headers.cookie',
  'res.headers["set-cookie"]',
]);

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'auth-service' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}

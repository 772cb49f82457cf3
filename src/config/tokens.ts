import type { Logger as PinoLogger } from 'pino';
import { PORTS, token, type Token } from '@application/ports/tokens';
import type { AppConfig } from './env';

export type { Token };

/**
 * Every typed DI symbol: the ports and settings the use cases take (defined in application, which cannot import
 * config) and what only the composition root uses. Use cases are their own identifiers: resolve `RegisterUser`.
 */
export const TOKENS = {
  ...PORTS,
  Config: token<AppConfig>('Config'),
  Logger: token<PinoLogger>('Logger'),
} as const;

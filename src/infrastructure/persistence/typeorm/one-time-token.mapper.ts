import type { OneTimeToken, OneTimeTokenPurpose } from '@domain/token/one-time-token';
import type { OneTimeTokenRecord } from './one-time-token.record';

export function toOneTimeToken(record: OneTimeTokenRecord): OneTimeToken {
  return {
    id: record.id,
    userId: record.userId,
    purpose: record.purpose as OneTimeTokenPurpose,
    tokenHash: record.tokenHash,
    createdAt: record.createdAt,
    expiresAt: record.expiresAt,
    consumedAt: record.consumedAt,
  };
}

export function toOneTimeTokenRow(token: OneTimeToken): OneTimeTokenRecord {
  return { ...token };
}

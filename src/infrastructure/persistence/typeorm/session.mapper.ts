import { type RevokeReason, Session, type SessionState } from '@domain/session/session';
import type { QueryDeepPartialEntity } from 'typeorm';
import type { RefreshTokenHistoryRecord, SessionRecord } from './session.record';

export interface SessionRows {
  session: QueryDeepPartialEntity<SessionRecord>;
  retired: QueryDeepPartialEntity<RefreshTokenHistoryRecord>[];
}

/**
 * Domain -> rows. Retired hashes become refresh_token_history rows dated by the rotation that retired them;
 * the repository inserts them with ON CONFLICT DO NOTHING, so writing one twice is harmless.
 */
export function toSessionRows(session: Session): SessionRows {
  const { retiredTokenHashes, ...state } = session.toState();
  const retiredAt = state.rotatedAt ?? state.lastUsedAt;
  return {
    session: {
      id: state.id,
      userId: state.userId,
      refreshTokenHash: state.refreshTokenHash,
      sealedRefreshToken: state.sealedRefreshToken,
      previousTokenHash: state.previousTokenHash,
      rotatedAt: state.rotatedAt,
      amr: state.amr,
      createdAt: state.createdAt,
      lastUsedAt: state.lastUsedAt,
      expiresAt: state.expiresAt,
      absoluteExpiresAt: state.absoluteExpiresAt,
      revokedAt: state.revokedAt,
      revokeReason: state.revokeReason,
      ip: state.ip,
      userAgent: state.userAgent,
    },
    retired: retiredTokenHashes.map((tokenHash) => ({ tokenHash, sessionId: state.id, retiredAt })),
  };
}

/**
 * Row -> domain. `retiredTokenHashes` is left empty on purpose: the history is only ever appended to, so the
 * aggregate needs to carry just the hashes it retires from now on, and save() writes only those. Reuse of an
 * old hash is detected by the repository's lookup (presented = 'retired'), not by the aggregate.
 */
export function toSession(record: SessionRecord): Session {
  const state: SessionState = {
    id: record.id,
    userId: record.userId,
    refreshTokenHash: record.refreshTokenHash,
    sealedRefreshToken: record.sealedRefreshToken,
    previousTokenHash: record.previousTokenHash,
    rotatedAt: record.rotatedAt,
    retiredTokenHashes: [],
    amr: record.amr,
    createdAt: record.createdAt,
    lastUsedAt: record.lastUsedAt,
    expiresAt: record.expiresAt,
    absoluteExpiresAt: record.absoluteExpiresAt,
    revokedAt: record.revokedAt,
    revokeReason: record.revokeReason as RevokeReason | null,
    ip: record.ip,
    userAgent: record.userAgent,
  };
  return Session.restore(state);
}

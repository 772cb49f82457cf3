import type { PresentedToken, Session } from './session';

export interface RefreshTokenMatch {
  session: Session;
  presented: PresentedToken;
}

/**
 * Port for sessions. save() inserts or updates the session, appends its retired token hashes, and writes its
 * recorded events to the outbox in the same transaction.
 */
export interface SessionRepository {
  findById(id: string): Promise<Session | null>;
  /**
   * Finds the session a refresh-token hash belongs to (current, previous or retired) and locks it until the
   * unit of work ends, so that concurrent refreshes of one session are serialised.
   */
  findByRefreshTokenHashForUpdate(hash: string): Promise<RefreshTokenMatch | null>;
  /** Sessions of the user that are neither revoked nor expired at `now`, newest first. */
  findActiveByUser(userId: string, now: Date): Promise<Session[]>;
  save(session: Session): Promise<void>;
}

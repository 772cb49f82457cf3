import type { User } from '../user/user';
import type { PresentedToken, Session } from './session';

export interface RefreshTokenMatch {
  session: Session;
  presented: PresentedToken;
}

/** A session found by its current or previous refresh token, with its user as read by the same statement (null: gone). */
export interface RefreshTokenRead {
  session: Session;
  presented: Exclude<PresentedToken, 'retired'>;
  user: User | null;
}

/**
 * Port for sessions. `add` inserts a new session; `save` updates one read FOR UPDATE (or added) in the same unit
 * of work, writing only the changed columns, appending its retired token hashes and writing its recorded events
 * to the outbox, all in the same transaction. Locks are taken user first, then sessions, everywhere.
 */
export interface SessionRepository {
  /** Plain read: for answering, never for saving. */
  findById(id: string): Promise<Session | null>;
  /** Reads and locks the session until the unit of work ends. */
  findByIdForUpdate(id: string): Promise<Session | null>;
  /**
   * Finds the session a refresh-token hash belongs to (current, previous or retired) and locks it until the
   * unit of work ends, so that concurrent refreshes of one session are serialised.
   */
  findByRefreshTokenHashForUpdate(hash: string): Promise<RefreshTokenMatch | null>;
  /**
   * The user whose session holds this refresh-token hash (current, previous or retired), read without a lock: so
   * that the locked path can take the account's lock before the session's, the order everywhere. Null if none.
   */
  findOwnerOfRefreshToken(hash: string): Promise<string | null>;
  /** Sessions of the user that are neither revoked nor expired at `now`, newest first. */
  findActiveByUser(userId: string, now: Date): Promise<Session[]>;
  /** The same, locked until the unit of work ends (for revoking them). */
  findActiveByUserForUpdate(userId: string, now: Date): Promise<Session[]>;
  /** Whether the user has more than `keep` active sessions at `now` (one read, no lock; reads at most keep + 1). */
  hasActiveBeyond(userId: string, keep: number, now: Date): Promise<boolean>;
  /**
   * The user's active sessions after its `keep` newest (newest first, as findActiveByUser orders them), at most
   * `limit` of them, locked until the unit of work ends: the ones a session limit ends. (PostgreSQL also locks the
   * `keep` rows it skips.)
   */
  findActiveBeyondForUpdate(userId: string, keep: number, now: Date, limit?: number): Promise<Session[]>;
  add(session: Session): Promise<void>;
  save(session: Session): Promise<void>;
  /**
   * The refresh fast path, outside any unit of work (one read, no lock): the session whose current or previous
   * refresh token has this hash, and its user. Null for a retired or unknown token (the locked path's cases).
   */
  findByRefreshTokenHash(hash: string): Promise<RefreshTokenRead | null>;
  /**
   * Compare-and-set, outside any unit of work, in one atomic step: writes the changed columns of `session` (read
   * by findByRefreshTokenHash, then rotated or replayed) and its retired token hashes, only if its row still holds
   * `expectedHash` as the current refresh token, is not revoked and was not written at all since that read (a
   * write in flight is waited for). False: the row changed meanwhile (a concurrent rotation or revocation, a
   * fence) and nothing was written. A session with recorded events is refused
   * (throws): events go to the outbox in a unit of work.
   *
   * `liveAt` (the refresh's instant of writing): the stored expiry must still be after it, or nothing is written
   * either. A revocation of every session (revokeSessions) skips those already expired, so a refresh that read the
   * session just before its expiry and wrote just after such a revocation would otherwise have brought it back, its
   * expiry moved on, after a password change that ended it (a review of stop 60).
   */
  saveIfCurrent(session: Session, expectedHash: string, liveAt: Date): Promise<boolean>;
  /**
   * In a unit of work: writes every active session of the user anew, nothing changed, so that every refresh that
   * read one before fails its compare-and-set (saveIfCurrent; one in flight waits for this commit) and decides again
   * under the account's lock. For a change of what the account's access tokens carry (its roles), dated after this
   * call: a token signed with the old value is then either written before the fence, with an earlier iat, or never
   * handed out.
   */
  fenceRefreshes(userId: string): Promise<void>;
}

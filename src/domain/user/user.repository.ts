import type { User } from './user';

/**
 * Port for the User aggregate. Email and username are unique: a clash throws DomainError
 * EMAIL_ALREADY_REGISTERED or USERNAME_TAKEN.
 *
 * Race-proof by rule (DESIGN 8a): `add` inserts a new user; `save` updates one that this repository read with
 * `findByIdForUpdate` in the same unit of work (the row is locked until the transaction ends) and writes only
 * the columns that changed. A user read any other way cannot be saved: save() throws, so that a stale copy can
 * never overwrite a newer row (a password change undone, a deleted account re-inserted).
 */
export interface UserRepository {
  /** Plain reads: for answering, never for saving. */
  findById(id: string): Promise<User | null>;
  /** `email` in canonical form. */
  findByEmail(email: string): Promise<User | null>;
  /** `username` in canonical (lower-case) form. */
  findByUsername(username: string): Promise<User | null>;
  /**
   * Reads and locks the user until the unit of work ends; a concurrent locker waits, then sees the newest row
   * (or null if it was deleted meanwhile). Only inside a unit of work.
   */
  findByIdForUpdate(id: string): Promise<User | null>;
  /**
   * Locks the rows of every active admin who can sign in (status active, role admin, a password), in id order,
   * until the unit of work ends, and returns their ids. An admin invited and confirmed by another admin but who has
   * not yet chosen a password is not one: counting them let the last admin who could sign in leave (an outside
   * review, 2026-12-02). Taken before any other user lock by the admin use cases, so that two of them cannot
   * each remove a different admin believing another one remains (see application/admin/admin-guard.ts). A row
   * that stopped being an active admin while the caller waited is not returned.
   */
  lockActiveAdmins(): Promise<string[]>;
  /** Inserts a new user with its credentials and writes its recorded events to the outbox. */
  add(user: User): Promise<void>;
  /** Updates the changed columns of a user read FOR UPDATE (or added) in this unit of work, and writes its events. */
  save(user: User): Promise<void>;
  /**
   * Writes the events the user recorded (its deletion) to the outbox, then deletes the account with its
   * credentials, sessions and one-time tokens. Outbox events and audit entries that name the user stay.
   * The user must have been read FOR UPDATE in this unit of work.
   */
  delete(user: User): Promise<void>;
}

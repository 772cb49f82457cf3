import type { User } from './user';

/**
 * Port for the User aggregate. save() inserts or updates the user with its credentials and writes the events
 * the aggregate recorded to the outbox in the same transaction. Email and username are unique: a clash
 * throws DomainError EMAIL_ALREADY_REGISTERED or USERNAME_TAKEN.
 */
export interface UserRepository {
  findById(id: string): Promise<User | null>;
  /** `email` in canonical form. */
  findByEmail(email: string): Promise<User | null>;
  /** `username` in canonical (lower-case) form. */
  findByUsername(username: string): Promise<User | null>;
  save(user: User): Promise<void>;
  /**
   * Writes the events the user recorded (its deletion) to the outbox, then deletes the account with its
   * credentials, sessions and one-time tokens. Outbox events and audit entries that name the user stay.
   */
  delete(user: User): Promise<void>;
}

import { DomainError } from '@domain/shared/domain-error';
import { User } from '@domain/user/user';
import type { UserRepository } from '@domain/user/user.repository';
import type { InMemoryDatabase } from './in-memory-database';
import { appendToOutbox } from './in-memory-outbox';

export class InMemoryUserRepository implements UserRepository {
  constructor(private readonly db: InMemoryDatabase) {}

  async findById(id: string): Promise<User | null> {
    const state = this.db.tables.users.get(id);
    return state ? User.restore(structuredClone(state)) : null;
  }

  async findByEmail(email: string): Promise<User | null> {
    return this.findWhere((u) => u.email === email);
  }

  async findByUsername(username: string): Promise<User | null> {
    return this.findWhere((u) => u.username === username);
  }

  async save(user: User): Promise<void> {
    const state = user.toState();
    for (const other of this.db.tables.users.values()) {
      if (other.id === state.id) continue;
      if (other.email === state.email) {
        throw new DomainError('EMAIL_ALREADY_REGISTERED', 'An account with this email already exists.');
      }
      if (state.username !== null && other.username === state.username) {
        throw new DomainError('USERNAME_TAKEN', 'This username is taken.');
      }
    }
    this.db.tables.users.set(state.id, structuredClone(state));
    appendToOutbox(this.db, user.pullEvents(), state.updatedAt);
  }

  /** The cascade of the SQL schema: credentials live in the user state; sessions, history and tokens go too. */
  async delete(user: User): Promise<void> {
    const { tables } = this.db;
    const events = user.pullEvents();
    appendToOutbox(this.db, events, events.at(-1)?.occurredAt ?? user.toState().updatedAt);
    tables.users.delete(user.id);
    for (const [id, session] of tables.sessions) if (session.userId === user.id) tables.sessions.delete(id);
    for (const [hash, sessionId] of tables.refreshTokenHistory) if (!tables.sessions.has(sessionId)) tables.refreshTokenHistory.delete(hash);
    for (const [id, token] of tables.oneTimeTokens) if (token.userId === user.id) tables.oneTimeTokens.delete(id);
  }

  private async findWhere(predicate: (state: { email: string; username: string | null }) => boolean) {
    for (const state of this.db.tables.users.values()) {
      if (predicate(state)) return User.restore(structuredClone(state));
    }
    return null;
  }
}

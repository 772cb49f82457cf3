import { Errors } from '@application/shared/errors';
import { CREDENTIAL_TYPES, type CredentialOf, type CredentialType, type CredentialsByType } from '@domain/user/credentials';
import { User, type UserState } from '@domain/user/user';
import type { UserRepository } from '@domain/user/user.repository';
import { LockedRows } from '../locked-rows';
import type { InMemoryDatabase } from './in-memory-database';
import { appendToOutbox } from './in-memory-outbox';

/**
 * The SQL adapter's semantics on the in-memory tables: add inserts (unique email and username), save updates
 * only the changed fields of a user read FOR UPDATE or added through this repository (the unit of work runs
 * one transaction at a time, which is the lock), a missing row is an error, never an insert.
 */
export class InMemoryUserRepository implements UserRepository {
  private readonly locked = new LockedRows<User, Flat>('users');
  /** Users adopted by a guarded write (adoptIfUnchanged): their own fields only, as the SQL adapter's. */
  private readonly guarded = new WeakSet<User>();

  constructor(private readonly db: InMemoryDatabase) {}

  /** As PostgreSQL's uuid column: an id spelled in capitals names the same row. */
  async findById(id: string): Promise<User | null> {
    const state = this.db.tables.users.get(id.toLowerCase());
    return state ? this.read(state) : null;
  }

  async findByEmail(email: string): Promise<User | null> {
    return this.findWhere((u) => u.email === email);
  }

  async findByUsername(username: string): Promise<User | null> {
    return this.findWhere((u) => u.username === username);
  }

  /**
   * UnitOfWork.runIfUnchanged: true, and `user` may be saved here, if its stored row is the very one it was read
   * from (every save stores a new object, and a rollback restores copies: either reads as a change).
   */
  adoptIfUnchanged(user: User): boolean {
    const read = readStates.get(user);
    if (read === undefined || this.db.tables.users.get(read.id) !== read) return false;
    // As findByIdForUpdate remembers a row: through a copy (the stored object's dates may be of another realm).
    this.locked.remember(user, flatten(User.restore(structuredClone(read)).toState()));
    this.guarded.add(user);
    return true;
  }

  async findByIdForUpdate(id: string): Promise<User | null> {
    const user = await this.findById(id);
    if (user) this.locked.remember(user, flatten(user.toState()));
    return user;
  }

  /** One transaction at a time is the lock; the ids in the SQL adapter's order. */
  async lockActiveAdmins(): Promise<string[]> {
    return [...this.db.tables.users.values()]
      .filter((u) => u.status === 'active' && u.roles.includes('admin') && u.credentials.byType.password !== undefined)
      .map((u) => u.id)
      .sort();
  }

  async add(user: User): Promise<void> {
    const state = user.toState();
    if (this.db.tables.users.has(state.id)) throw new Error('users: duplicate primary key');
    this.assertUnique(state);
    this.db.tables.users.set(state.id, structuredClone(state));
    this.locked.remember(user, flatten(state));
    appendToOutbox(this.db, user.pullEvents(), state.updatedAt);
  }

  async save(user: User): Promise<void> {
    const state = user.toState();
    const changes = this.locked.changes(user, flatten(state));
    if (this.guarded.has(user) && Object.keys(changes).some((key) => CREDENTIAL_KEYS.has(key))) {
      throw new Error('users: a guarded write cannot change a credential');
    }
    const current = this.db.tables.users.get(state.id);
    if (!current) throw new Error('users: the locked row to update is gone');
    const next = unflatten({ ...flatten(current), ...changes });
    this.assertUnique(next);
    this.db.tables.users.set(state.id, structuredClone(next));
    this.locked.remember(user, flatten(state));
    appendToOutbox(this.db, user.pullEvents(), state.updatedAt);
  }

  /** The cascade of the SQL schema: credentials live in the user state; sessions, history and tokens go too. */
  async delete(user: User): Promise<void> {
    this.locked.assertLocked(user);
    const { tables } = this.db;
    const events = user.pullEvents();
    appendToOutbox(this.db, events, events.at(-1)?.occurredAt ?? user.toState().updatedAt);
    tables.users.delete(user.id);
    for (const [id, session] of tables.sessions) if (session.userId === user.id) tables.sessions.delete(id);
    for (const [hash, sessionId] of tables.refreshTokenHistory) if (!tables.sessions.has(sessionId)) tables.refreshTokenHistory.delete(hash);
    for (const [id, token] of tables.oneTimeTokens) if (token.userId === user.id) tables.oneTimeTokens.delete(id);
  }

  private assertUnique(state: UserState): void {
    for (const other of this.db.tables.users.values()) {
      if (other.id === state.id) continue;
      if (other.email === state.email) {
        throw Errors.emailAlreadyRegistered();
      }
      if (state.username !== null && other.username === state.username) {
        throw Errors.usernameTaken();
      }
    }
  }

  private async findWhere(predicate: (state: { email: string; username: string | null }) => boolean) {
    for (const state of this.db.tables.users.values()) {
      if (predicate(state)) return this.read(state);
    }
    return null;
  }

  /** A copy of the stored row, which adoptIfUnchanged can later tell from a newer one. */
  private read(state: UserState): User {
    const user = User.restore(structuredClone(state));
    readStates.set(user, state);
    return user;
  }
}

/** Each user read, by the stored object it was read from (a module's: guarded writes use another repository). */
const readStates = new WeakMap<User, UserState>();

/** The columns of Flat that are credential rows in SQL (not the users row's failure bookkeeping). */
const CREDENTIAL_KEYS: ReadonlySet<string> = new Set(CREDENTIAL_TYPES.map((type) => `credentials.${type}`));

/**
 * Users and credentials as one set of columns, as the SQL rows hold them: the account's failure bookkeeping,
 * and one entry per credential type (null = no row), so that save() writes only what changed.
 */
type CredentialColumns = { [T in CredentialType as `credentials.${T}`]: CredentialOf<T> | null };
type Flat = Omit<UserState, 'credentials'> &
  CredentialColumns & { 'credentials.failedAttempts': number; 'credentials.lockedUntil': Date | null };

function flatten(state: UserState): Flat {
  const { credentials, ...user } = state;
  const { byType } = credentials;
  return {
    ...user,
    'credentials.failedAttempts': credentials.failedAttempts,
    'credentials.lockedUntil': credentials.lockedUntil,
    'credentials.password': byType.password ?? null,
    'credentials.totp': byType.totp ?? null,
    'credentials.recovery_codes': byType.recovery_codes ?? null,
  };
}

function unflatten(flat: Flat): UserState {
  const {
    'credentials.failedAttempts': failedAttempts,
    'credentials.lockedUntil': lockedUntil,
    'credentials.password': password,
    'credentials.totp': totp,
    'credentials.recovery_codes': recoveryCodes,
    ...user
  } = flat;
  const byType: CredentialsByType = {};
  if (password) byType.password = password;
  if (totp) byType.totp = totp;
  if (recoveryCodes) byType.recovery_codes = recoveryCodes;
  return { ...user, credentials: { byType, failedAttempts, lockedUntil } };
}

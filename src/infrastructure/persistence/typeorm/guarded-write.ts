import { Errors } from '@application/shared/errors';
import type { User } from '@domain/user/user';
import type { DataSource, EntityManager } from 'typeorm';
import { LockedRows, sameValue } from '../locked-rows';
import { preparedQuery, refuseQueries } from './prepared-query';
import { insertStatement, pushParams, type RowBatch, type Shape, shapeOf } from './raw-insert';
import { setClause } from './raw-update';
import { toUser, toUserRows, type UserRecordWithCredentials, type UserRows } from './user.mapper';
import { UserRecord } from './user.record';

/**
 * The optimistic write of UnitOfWork.runIfUnchanged: the changes a unit of work makes to one user read outside a
 * lock (its own columns), the rows it adds (a session, outbox events, audit entries), written in ONE statement
 * that holds only if the user's row is still the version that was read:
 *
 *   WITH g AS (UPDATE users SET … WHERE id = $1 AND xmin = $2::text::xid RETURNING 1),
 *        i1 AS (INSERT INTO sessions (…) SELECT $3, … WHERE EXISTS (SELECT 1 FROM g) RETURNING 1),
 *        i2 AS (INSERT INTO outbox_events (…) SELECT … WHERE EXISTS (SELECT 1 FROM g) RETURNING 1),
 *        i3 AS (INSERT INTO outbox_events (…) SELECT … WHERE EXISTS (SELECT 1 FROM i2) RETURNING 1), …
 *   SELECT count(*) FROM g
 *
 * `xmin` is the id of the transaction that wrote the row version: every UPDATE of the row makes a new version with
 * a new xmin (a row lock alone does not), and a credential change always writes the users row too
 * (TypeOrmUserRepository.save), so "same xmin" means that nothing of the account changed. Under READ COMMITTED an
 * UPDATE that finds the row being changed waits for that transaction and re-checks its WHERE against the new
 * version, which has another xmin: it then matches nothing, and no INSERT of the statement runs (each reads g, or the
 * row of its table before it, which read g).
 * A frozen row reads xmin 2 (FrozenTransactionId): a freeze between the read and the write fails the guard, the safe
 * way. No BEGIN or COMMIT: one statement is atomic on its own, 1 round trip where the locked path takes 7.
 *
 * UnitOfWork.runInserts (registration) holds the same way; its rows are all new (a user, its credentials, a
 * session, events, audit), and the new user's `INSERT … ON CONFLICT DO NOTHING RETURNING 1` takes the UPDATE's
 * place: a taken email or username writes nothing. The foreign keys to the new user are checked at the statement's
 * end, when its row is there.
 */

/** A user as read by the user repository's plain reads: the row version (xmin, as text) and the record. */
interface ReadVersion {
  version: string;
  record: UserRecordWithCredentials;
}

const readVersions = new WeakMap<User, ReadVersion>();

/** The user repository, after building `user` from `record` read with its xmin. */
export function rememberReadVersion(user: User, version: string, record: UserRecordWithCredentials): void {
  readVersions.set(user, { version, record });
}

/** runIfUnchanged's guard: the user whose row version the statement checks, and its changes. */
interface Subject {
  user: User;
  version: string;
  /** The user's rows as read: its credentials, and its own columns (LockedRows diffs a save against them). */
  before: UserRows;
  read: LockedRows<User, UserRows['user']>;
  changes: Record<string, unknown> | null;
}

/** runInserts' new user: its row, which the others' INSERTs depend on, and the keys a conflict may be on. */
interface NewUser {
  row: RowBatch;
  email: string;
  username: string | null;
}

/** Held writes: the subject's (runIfUnchanged), or null for runInserts (new rows only, nothing to check). */
interface Guard {
  subject: Subject | null;
  newUser: NewUser | null;
  inserts: RowBatch[];
}

const guards = new WeakMap<EntityManager, Guard>();

/**
 * The EntityManager a guarded work's repositories get, and whose held writes writeGuarded sends: it answers only
 * `connection` (the metadata) and `queryRunner` (none). Any statement of its own (a read, or a write the guard
 * would not cover: a one-time token, an email) is refused, through TypeORM's methods as through preparedQuery.
 * Null (nothing to guard with) if `user` was not read with its version.
 */
export function openGuard(dataSource: DataSource, user: User): EntityManager | null {
  const read = readVersions.get(user);
  if (read === undefined) return null;
  const before = toUserRows(toUser(read.record));
  const rows = new LockedRows<User, UserRows['user']>('users');
  rows.remember(user, before.user);
  return heldManager(dataSource, { subject: { user, version: read.version, before, read: rows, changes: null }, newUser: null, inserts: [] });
}

/** The same for UnitOfWork.runInserts: new rows only (a user with its credentials, sessions, events, audit). */
export function openInsertGuard(dataSource: DataSource): EntityManager {
  return heldManager(dataSource, { subject: null, newUser: null, inserts: [] });
}

function heldManager(dataSource: DataSource, guard: Guard): EntityManager {
  const manager = new Proxy(dataSource.manager, {
    get(target, property) {
      if (typeof property === 'symbol' || property === 'connection' || property === 'queryRunner') return Reflect.get(target, property);
      if (property === 'then') return undefined; // not a thenable
      throw new Error(`a guarded write sends one statement at its end: its work may not use EntityManager.${property}`);
    },
  });
  refuseQueries(manager);
  guards.set(manager, guard);
  return manager;
}

export function closeGuard(manager: EntityManager): void {
  guards.delete(manager);
}

export function isGuarded(manager: EntityManager): boolean {
  return guards.has(manager);
}

/** Inside a guarded work: holds the rows (an append or an insert) and returns true; outside one, false. */
export function holdGuarded(manager: EntityManager, batch: RowBatch): boolean {
  const guard = guards.get(manager);
  if (guard === undefined) return false;
  if (batch.rows.length > 0) guard.inserts.push(batch);
  return true;
}

/**
 * The user repository's save() inside a guarded work: the guard's user only, its own columns only (a credential
 * is a row of its own table, which this statement does not write: such a change takes the locked path).
 */
export function holdGuardedUserSave(manager: EntityManager, user: User, rows: UserRows): void {
  const subject = guards.get(manager)?.subject;
  if (subject === undefined) throw new Error('users: not a guarded write');
  if (subject === null) throw new Error('users: an insert-only write (runInserts) saves nothing');
  if (user !== subject.user) throw new Error('users: a guarded write saves only the user it is guarded by');
  if (!sameValue(rows.credentials, subject.before.credentials)) throw new Error('users: a guarded write cannot change a credential');
  subject.changes = subject.read.changes(user, rows.user) as Record<string, unknown>;
}

/**
 * The user repository's add() inside an insert-only work (runInserts): the user's row and its credentials' rows,
 * held; one new user per work. A new user inside runIfUnchanged's work is refused: that work may create sessions
 * and entries only.
 */
export function holdGuardedUserAdd(manager: EntityManager, user: NewUser, credentials: RowBatch): void {
  const guard = guards.get(manager);
  if (guard === undefined) throw new Error('users: not a guarded write');
  if (guard.subject !== null) throw new Error('users: a write guarded by a user adds no user');
  if (guard.newUser !== null) throw new Error('users: an insert-only write adds one user');
  guard.newUser = user;
  if (credentials.rows.length > 0) guard.inserts.push(credentials);
}

/**
 * The one statement: true if the row was the version read (everything held is written), false if not (nothing
 * is). Nothing held: nothing to write, nothing to guard (true).
 *
 * An insert-only work's statement: the new user's INSERT … ON CONFLICT DO NOTHING in the place of the UPDATE,
 * the other rows conditional on it. Its email or username taken (by a row committed, or by a registration in
 * flight, whose commit the INSERT waits for): nothing written, and the domain's error, found by one more read.
 * No unique violation is raised, so PostgreSQL's log gets no error line naming the address.
 */
export async function writeGuarded(manager: EntityManager): Promise<boolean> {
  const guard = guards.get(manager);
  if (guard === undefined) throw new Error('writeGuarded: no guard open');
  const { subject, newUser } = guard;
  const metadata = manager.connection.getMetadata(UserRecord);
  const params: unknown[] = [];
  let anchor: string;
  if (subject !== null) {
    if (subject.changes === null && guard.inserts.length === 0) return true;
    params.push(subject.user.id, subject.version);
    const changes = subject.changes ?? {};
    // Nothing of the user's own changed: the row is written all the same (a new version), so that the guard locks it.
    const sets = Object.keys(changes).length > 0 ? setClause(metadata, changes, params) : ['"id" = "id"'];
    anchor = `g AS (UPDATE "${metadata.tableName}" SET ${sets.join(', ')} WHERE "id" = $1 AND xmin = $2::text::xid RETURNING 1)`;
  } else if (newUser !== null) {
    const { shape, columns } = columnsOf(manager, newUser.row);
    pushParams(shape, newUser.row.rows, params);
    const values = shape.columns.map((_column, i) => `$${i + 1}`).join(', ');
    anchor = `g AS (INSERT INTO "${shape.table}" (${columns}) VALUES (${values}) ON CONFLICT DO NOTHING RETURNING 1)`;
  } else {
    const statement = insertStatement(manager, guard.inserts);
    if (statement) await preparedQuery(manager.connection.manager, statement.sql, statement.params);
    return true;
  }
  const parts = [anchor];
  // Each row after the first of its table waits for the one before (EXISTS on its RETURNING), the first for g: the
  // rows go in in the order held, so an outbox row's identity (`seq`, the relay's order within one commit) follows
  // the order its events were recorded in. Unchained, PostgreSQL ran the WITH inserts last to first (stop 51).
  const lastOf = new Map<string, string>();
  for (const batch of guard.inserts) {
    if (batch.rows.length === 0) continue;
    const { shape, columns } = columnsOf(manager, batch);
    for (const row of batch.rows) {
      const start = params.length;
      pushParams(shape, [row], params);
      const values = shape.columns.map((_column, i) => `$${start + i + 1}`).join(', ');
      const name = `i${parts.length}`;
      parts.push(`${name} AS (INSERT INTO "${shape.table}" (${columns}) SELECT ${values} WHERE EXISTS (SELECT 1 FROM ${lastOf.get(shape.table) ?? 'g'}) RETURNING 1)`);
      lastOf.set(shape.table, name);
    }
  }
  const rows = await preparedQuery(manager.connection.manager, `WITH ${parts.join(', ')} SELECT count(*)::int AS "matched" FROM g`, params);
  if (rows[0]?.matched === 1) return true;
  if (newUser !== null) throw await takenKey(manager, newUser);
  return false;
}

function columnsOf(manager: EntityManager, batch: RowBatch): { shape: Shape; columns: string } {
  const { shape } = shapeOf(manager, batch.target, Object.keys(batch.rows[0] ?? {}));
  return { shape, columns: shape.columns.map((column) => `"${column.databaseName}"`).join(', ') };
}

/**
 * Which key of the new user is taken: the email first, as register checks. A row gone again by now (deleted in
 * the moment between): answered as a taken email, which it was; the client may try again.
 */
async function takenKey(manager: EntityManager, user: NewUser): Promise<Error> {
  const [taken] = await preparedQuery(
    manager.connection.manager,
    'SELECT EXISTS (SELECT 1 FROM users WHERE email = $1) AS "email", EXISTS (SELECT 1 FROM users WHERE username = $2) AS "username"',
    [user.email, user.username],
  );
  return taken?.username === true && taken.email !== true ? Errors.usernameTaken() : Errors.emailAlreadyRegistered();
}

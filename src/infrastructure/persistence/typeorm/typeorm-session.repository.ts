import type { Session } from '@domain/session/session';
import type { RefreshTokenMatch, RefreshTokenRead, SessionRepository } from '@domain/session/session.repository';
import type { EntityManager } from 'typeorm';
import { LockedRows } from '../locked-rows';
import { TypeOrmOutboxWriter } from './outbox-writer';
import { type SessionRows, toSession, toSessionRows } from './session.mapper';
import { selectList } from './raw-select';
import { holdGuarded } from './guarded-write';
import { insertRows } from './raw-insert';
import { isUuid } from './uuid';
import { RefreshTokenHistoryRecord, SessionRecord } from './session.record';
import { CREDENTIALS_JSON } from './typeorm-user.repository';
import { preparedQuery } from './prepared-query';
import { updateRows } from './raw-update';
import { toUser, type UserRecordWithCredentials } from './user.mapper';
import { UserRecord } from './user.record';

/** Column aliases of the user half of the fast-path read (no session property starts with it). */
const USER_PREFIX = 'user__';

/** Sessions and their refresh-token history. Bound to one EntityManager: the transaction's inside a unit of work. */
export class TypeOrmSessionRepository implements SessionRepository {
  private readonly outbox: TypeOrmOutboxWriter;
  private readonly locked = new LockedRows<Session, SessionRows['session']>('sessions');
  /** Sessions read by findByRefreshTokenHash, as read: saveIfCurrent writes what differs (never save()). */
  private readonly readForRotation = new LockedRows<Session, SessionRows['session']>('sessions');
  /** The version (xmin) of each of those sessions' rows as read: saveIfCurrent holds only if it is unchanged. */
  private readonly readVersions = new WeakMap<Session, string>();

  constructor(private readonly manager: EntityManager) {
    this.outbox = new TypeOrmOutboxWriter(manager);
  }

  async findById(id: string): Promise<Session | null> {
    if (!isUuid(id)) return null;
    const rows: SessionRecord[] = await this.manager.query(
      `SELECT ${selectList(this.manager, SessionRecord, 's')} FROM sessions s WHERE s.id = $1`,
      [id],
    );
    return rows[0] ? toSession(rows[0]) : null;
  }

  async findByIdForUpdate(id: string): Promise<Session | null> {
    if (!isUuid(id)) return null;
    const record = await this.lockById(id);
    return record ? this.track(toSession(record)) : null;
  }

  /**
   * Must run inside a unit of work (TypeORM refuses a pessimistic lock outside a transaction). Under READ
   * COMMITTED a caller blocked on the row lock gets the row re-checked against the WHERE in its newest
   * version once the lock is granted: a token rotated away meanwhile no longer matches as current, so 20
   * concurrent refreshes of one token see 'current' once and 'previous' (or 'retired') afterwards.
   */
  async findByRefreshTokenHashForUpdate(hash: string): Promise<RefreshTokenMatch | null> {
    const record = await this.manager
      .createQueryBuilder(SessionRecord, 's')
      .where('s.refresh_token_hash = :hash OR s.previous_token_hash = :hash', { hash })
      .setLock('pessimistic_write')
      .getOne();
    if (record) {
      const presented = record.refreshTokenHash === hash ? 'current' : 'previous';
      return { session: this.track(toSession(record)), presented };
    }
    const retired = await this.manager.findOneBy(RefreshTokenHistoryRecord, { tokenHash: hash });
    if (!retired) return null;
    const owner = await this.lockById(retired.sessionId);
    return owner ? { session: this.track(toSession(owner)), presented: 'retired' } : null;
  }

  async findOwnerOfRefreshToken(hash: string): Promise<string | null> {
    const rows = await preparedQuery(
      this.manager,
      `SELECT user_id FROM sessions WHERE refresh_token_hash = $1 OR previous_token_hash = $1
       UNION ALL
       SELECT s.user_id FROM refresh_token_history h JOIN sessions s ON s.id = h.session_id WHERE h.token_hash = $1
       LIMIT 1`,
      [hash],
    );
    const owner = rows[0]?.user_id;
    return typeof owner === 'string' ? owner : null;
  }

  /** A named prepared statement: GET /users/me/sessions runs it on every call (TypeORM's find() built it anew). */
  async findActiveByUser(userId: string, now: Date): Promise<Session[]> {
    if (!isUuid(userId)) return [];
    const records = (await preparedQuery(
      this.manager,
      `SELECT ${selectList(this.manager, SessionRecord, 's')} FROM sessions s
       WHERE s.user_id = $1 AND s.revoked_at IS NULL AND s.expires_at > $2 ORDER BY s.created_at DESC, s.id ASC`,
      [userId, now],
    )) as unknown as SessionRecord[];
    return records.map(toSession);
  }

  /** A named prepared statement: every sign-in asks it, after its answer (SessionLimit). */
  async hasActiveBeyond(userId: string, keep: number, now: Date): Promise<boolean> {
    if (!isUuid(userId)) return false;
    const sql = `SELECT 1 FROM sessions WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2
       ORDER BY created_at DESC, id ASC OFFSET $3 LIMIT 1`;
    return ((await preparedQuery(this.manager, sql, [userId, now, keep])) as unknown[]).length > 0;
  }

  /** Past the `keep` newest, in the list's order (findActiveByUserForUpdate: all of them), locked. */
  async findActiveBeyondForUpdate(userId: string, keep: number, now: Date, limit?: number): Promise<Session[]> {
    const query = this.manager
      .createQueryBuilder(SessionRecord, 's')
      .where('s.user_id = :userId AND s.revoked_at IS NULL AND s.expires_at > :now', { userId, now })
      .orderBy('s.created_at', 'DESC')
      .addOrderBy('s.id', 'ASC')
      .offset(keep)
      .setLock('pessimistic_write');
    const records = await (limit === undefined ? query : query.limit(limit)).getMany();
    return records.map((record) => this.track(toSession(record)));
  }

  findActiveByUserForUpdate(userId: string, now: Date): Promise<Session[]> {
    return this.findActiveBeyondForUpdate(userId, 0, now);
  }

  async add(session: Session): Promise<void> {
    const rows = toSessionRows(session);
    const batch = { target: SessionRecord, rows: [rows.session as Partial<SessionRecord>] };
    // In a guarded write (UnitOfWork.runIfUnchanged) the row goes with the guard's one statement.
    if (!holdGuarded(this.manager, batch)) await insertRows(this.manager, batch.target, batch.rows);
    else if (rows.retired.length > 0) throw new Error('sessions: a guarded write adds only new sessions');
    this.locked.remember(session, rows.session);
    await this.writeHistoryAndEvents(session, rows);
  }

  async save(session: Session): Promise<void> {
    const rows = toSessionRows(session);
    const changes = this.locked.changes(session, rows.session);
    if (Object.keys(changes).length > 0) {
      const affected = await updateRows(this.manager, SessionRecord, { id: session.id }, changes);
      if (affected !== 1) throw new Error('sessions: the locked row to update is gone');
    }
    this.locked.remember(session, rows.session);
    await this.writeHistoryAndEvents(session, rows);
  }

  /** One statement: the session (current or previous token) and its user with credentials, as the user repository reads it. */
  async findByRefreshTokenHash(hash: string): Promise<RefreshTokenRead | null> {
    const rows = await preparedQuery(
      this.manager,
      `SELECT ${selectList(this.manager, SessionRecord, 's')}, ${selectList(this.manager, UserRecord, 'u', USER_PREFIX)},
              ${CREDENTIALS_JSON.replace('AS "credentials"', `AS "${USER_PREFIX}credentials"`)}, s.xmin::text AS "rowVersion"
         FROM sessions s LEFT JOIN users u ON u.id = s.user_id
        WHERE s.refresh_token_hash = $1 OR s.previous_token_hash = $1`,
      [hash],
    );
    const row = rows[0];
    if (!row) return null;
    const own: Record<string, unknown> = {};
    const user: Record<string, unknown> = {};
    const { rowVersion, ...columns } = row as Record<string, unknown>;
    for (const [key, value] of Object.entries(columns)) {
      if (key.startsWith(USER_PREFIX)) user[key.slice(USER_PREFIX.length)] = value;
      else own[key] = value;
    }
    const record = own as unknown as SessionRecord;
    const session = toSession(record);
    this.readForRotation.remember(session, toSessionRows(session).session);
    if (typeof rowVersion === 'string') this.readVersions.set(session, rowVersion);
    const presented = record.refreshTokenHash === hash ? 'current' : 'previous';
    return { session, presented, user: user.id ? toUser(user as unknown as UserRecordWithCredentials) : null };
  }

  /**
   * One statement, atomic on its own: the UPDATE's WHERE is the compare (under READ COMMITTED a concurrent
   * writer's change is re-checked against it once its lock is released, so of two rotations of one token one
   * matches), and the retired hashes are inserted by the same statement only if the UPDATE matched.
   *
   * The row must also still be the version read (xmin): a write of the row since the read fails the compare, one in flight
   * (holding the row's lock) makes it wait for that commit, then fail. fenceRefreshes writes every active session of
   * a user for that: a role change fences the refreshes that read the account before it.
   */
  async saveIfCurrent(session: Session, expectedHash: string, liveAt: Date): Promise<boolean> {
    if (session.pullEvents().length > 0) throw new Error('sessions: saveIfCurrent cannot write events (use a unit of work)');
    const version = this.readVersions.get(session);
    if (version === undefined) throw new Error('sessions: saveIfCurrent needs a session read by findByRefreshTokenHash');
    const rows = toSessionRows(session);
    const changes = this.readForRotation.changes(session, rows.session) as Record<string, unknown>;
    const metadata = this.manager.connection.getMetadata(SessionRecord);
    const params: unknown[] = [session.id, expectedHash, version];
    const sets = Object.entries(changes).map(([property, value]) => {
      const column = metadata.findColumnWithPropertyName(property);
      if (!column) throw new Error(`sessions: no column for ${property}`);
      params.push(value);
      return `"${column.databaseName}" = $${params.length}`;
    });
    if (sets.length === 0) sets.push('id = id');
    params.push(rows.retired.map((row) => row.tokenHash), rows.retired[0]?.retiredAt ?? null, liveAt);
    const [hashes, retiredAt, live] = [params.length - 2, params.length - 1, params.length];
    const result = await preparedQuery(
      this.manager,
      `WITH rotated AS (
         UPDATE sessions SET ${sets.join(', ')}
          WHERE id = $1 AND refresh_token_hash = $2 AND revoked_at IS NULL AND xmin = $3::text::xid AND expires_at > $${live}::timestamptz
         RETURNING id
       ), retired AS (
         INSERT INTO refresh_token_history (token_hash, session_id, retired_at)
         SELECT h, r.id, $${retiredAt}::timestamptz FROM rotated r, unnest($${hashes}::text[]) AS h
         ON CONFLICT DO NOTHING
       )
       SELECT count(*)::int AS matched FROM rotated`,
      params,
    );
    const matched = result[0]?.matched === 1;
    if (matched) this.readForRotation.remember(session, rows.session);
    return matched;
  }

  /**
   * A new version of every active session of the user, nothing changed in it: a refresh that read one before fails
   * its compare-and-set (saveIfCurrent) and takes the locked path. In a unit of work, whose commit the refreshes
   * meanwhile wait for. One statement.
   */
  async fenceRefreshes(userId: string): Promise<void> {
    if (!isUuid(userId)) return;
    await preparedQuery(this.manager, 'UPDATE sessions SET last_used_at = last_used_at WHERE user_id = $1 AND revoked_at IS NULL', [userId]);
  }

  private track(session: Session): Session {
    this.locked.remember(session, toSessionRows(session).session);
    return session;
  }

  private async writeHistoryAndEvents(session: Session, rows: SessionRows): Promise<void> {
    if (rows.retired.length > 0) {
      await this.manager
        .createQueryBuilder()
        .insert()
        .into(RefreshTokenHistoryRecord)
        .values(rows.retired)
        .orIgnore()
        .execute();
    }
    await this.outbox.write(session.pullEvents());
  }

  private lockById(id: string): Promise<SessionRecord | null> {
    return this.manager
      .createQueryBuilder(SessionRecord, 's')
      .where('s.id = :id', { id })
      .setLock('pessimistic_write')
      .getOne();
  }
}

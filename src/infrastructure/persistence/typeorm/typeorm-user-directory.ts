import type { StatsPeriods, UserDirectory, UserPage, UserQuery, UserStats } from '@application/ports/user-directory';
import type { EntityManager } from 'typeorm';
import { selectList } from './raw-select';
import { CREDENTIALS_JSON } from './typeorm-user.repository';
import { toUser, type UserRecordWithCredentials } from './user.mapper';
import { UserRecord } from './user.record';

const SORT_COLUMN = { created_at: 'created_at', email: 'email', last_login_at: 'last_login_at' } as const;

/** `%`, `_` and the escape character itself match literally inside a LIKE pattern (ESCAPE '\'). */
export function likePattern(term: string): string {
  return `%${term.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/**
 * Listing and statistics in SQL. The search is ILIKE over the four columns: on PostgreSQL with pg_trgm a
 * trigram GIN index per column serves it (migration AdminIndexes1764520000000); without the extension (PGlite)
 * it scans, which the embedded mode's size allows. Every value is a bound parameter, quotes included.
 */
export class TypeOrmUserDirectory implements UserDirectory {
  constructor(private readonly manager: EntityManager) {}

  async search(query: UserQuery): Promise<UserPage> {
    const where: string[] = [];
    const params: unknown[] = [];
    const param = (value: unknown) => {
      params.push(value);
      return `$${params.length}`;
    };
    if (query.search !== undefined && query.search !== '') {
      const p = param(likePattern(query.search));
      where.push(`(u.email ILIKE ${p} ESCAPE '\\' OR u.username ILIKE ${p} ESCAPE '\\' OR u.first_name ILIKE ${p} ESCAPE '\\' OR u.last_name ILIKE ${p} ESCAPE '\\')`);
    }
    if (query.status !== undefined) where.push(`u.status = ${param(query.status)}`);
    if (query.role !== undefined) where.push(`${param(query.role)} = ANY(u.roles)`);
    const filter = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
    const counted: { n: number }[] = await this.manager.query(`SELECT count(*)::int AS n FROM users u ${filter}`, params);
    const total = counted[0]?.n ?? 0;
    const direction = query.order === 'asc' ? 'ASC' : 'DESC';
    const order = `u.${SORT_COLUMN[query.sort]} ${direction} NULLS LAST, u.id ${direction}`;
    const offset = (query.page - 1) * query.limit;
    const rows: UserRecordWithCredentials[] =
      offset >= total
        ? []
        : await this.manager.query(
            `SELECT ${selectList(this.manager, UserRecord, 'u')}, ${CREDENTIALS_JSON} FROM users u ${filter} ORDER BY ${order} LIMIT ${param(query.limit)} OFFSET ${param(offset)}`,
            params,
          );
    return { users: rows.map(toUser), total };
  }

  async stats(periods: StatsPeriods): Promise<UserStats> {
    const rows: Record<string, number>[] = await this.manager.query(
      `SELECT count(*)::int AS total,
        count(*) FILTER (WHERE status = 'active')::int AS active,
        count(*) FILTER (WHERE email_verified)::int AS verified,
        count(*) FILTER (WHERE created_at >= $1)::int AS today,
        count(*) FILTER (WHERE created_at >= $2)::int AS week,
        count(*) FILTER (WHERE created_at >= $3)::int AS month
      FROM users`,
      [periods.dayStart, periods.weekStart, periods.monthStart],
    );
    const r = rows[0] ?? {};
    return {
      totalUsers: r['total'] ?? 0,
      activeUsers: r['active'] ?? 0,
      verifiedUsers: r['verified'] ?? 0,
      newUsersToday: r['today'] ?? 0,
      newUsersThisWeek: r['week'] ?? 0,
      newUsersThisMonth: r['month'] ?? 0,
    };
  }
}

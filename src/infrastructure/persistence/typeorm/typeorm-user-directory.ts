import type { StatsPeriods, UserDirectory, UserFilter, UserQuery, UserStats } from '@application/ports/user-directory';
import type { User } from '@domain/user/user';
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

  async count(filter: UserFilter): Promise<number> {
    const { where, params } = conditions(filter);
    const counted: { n: number }[] = await this.manager.query(`SELECT count(*)::int AS n FROM users u ${where}`, params);
    return counted[0]?.n ?? 0;
  }

  async page(query: UserQuery): Promise<User[]> {
    const { where, params } = conditions(query);
    const direction = query.order === 'asc' ? 'ASC' : 'DESC';
    const order = `u.${SORT_COLUMN[query.sort]} ${direction} NULLS LAST, u.id ${direction}`;
    params.push(query.limit, (query.page - 1) * query.limit);
    const rows: UserRecordWithCredentials[] = await this.manager.query(
      `SELECT ${selectList(this.manager, UserRecord, 'u')}, ${CREDENTIALS_JSON} FROM users u ${where} ORDER BY ${order} LIMIT $${params.length - 1} OFFSET $${params.length}`,
      params,
    );
    return rows.map(toUser);
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

/** The WHERE clause of a filter, every value a bound parameter. */
function conditions(filter: UserFilter): { where: string; params: unknown[] } {
  const clauses: string[] = [];
  const params: unknown[] = [];
  const param = (value: unknown) => {
    params.push(value);
    return `$${params.length}`;
  };
  if (filter.search !== undefined && filter.search !== '') {
    const p = param(likePattern(filter.search));
    clauses.push(`(u.email ILIKE ${p} ESCAPE '\\' OR u.username ILIKE ${p} ESCAPE '\\' OR u.first_name ILIKE ${p} ESCAPE '\\' OR u.last_name ILIKE ${p} ESCAPE '\\')`);
  }
  if (filter.status !== undefined) clauses.push(`u.status = ${param(filter.status)}`);
  if (filter.role !== undefined) clauses.push(`${param(filter.role)} = ANY(u.roles)`);
  return { where: clauses.length > 0 ? `WHERE ${clauses.join(' AND ')}` : '', params };
}

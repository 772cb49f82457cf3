import { lowerEachCodePoint } from '@domain/user/email';
import { SEARCH_COUNT_CAP, SEARCH_PAGE_REACH, searchTerms, type PageOptions, type StatsPeriods, type UserDirectory, type UserFilter, type UserQuery, type UserStats } from '@application/ports/user-directory';
import type { User } from '@domain/user/user';
import type { EntityManager } from 'typeorm';
import { USER_SEARCH_TEXT } from '../../../../migrations/1764540000000-growth-indexes';
import { selectList } from './raw-select';
import { CREDENTIALS_JSON } from './typeorm-user.repository';
import { toUser, type UserRecordWithCredentials } from './user.mapper';
import { UserRecord } from './user.record';

/**
 * Each sort is an index order (migration GrowthIndexes1764540000000), the tie-break included: created_at is
 * never null, email is unique, last_login_at puts the never-logged-in last in either direction.
 */
const ORDER = {
  created_at: { asc: 'u.created_at ASC, u.id ASC', desc: 'u.created_at DESC, u.id DESC' },
  email: { asc: 'u.email ASC', desc: 'u.email DESC' },
  last_login_at: { asc: 'u.last_login_at ASC NULLS LAST, u.id ASC', desc: 'u.last_login_at DESC NULLS LAST, u.id DESC' },
} as const;
/** A unique column each sort's index holds, to join a page's keys back to its rows. */
const KEY = { created_at: 'id', email: 'email', last_login_at: 'id' } as const;
/**
 * When a search's count reached the cap (more than SEARCH_COUNT_CAP matches), its page is first looked for among
 * the first WALK_ROWS users in the sort order (an index walk, bounded; it stops once it holds limit + offset
 * matches, about (limit + offset) * users / matches rows when the matches are spread). With an exact count (at
 * most the cap), or when the prefix does not hold the page (deep pages, matches bunched at the other end of the
 * order), the matches are collected through the trigram index and sorted (cost grows with the matches: at most
 * about the cap's worth of rows for an exact count).
 */
export const WALK_FROM_MATCHES = SEARCH_COUNT_CAP + 1;
export const WALK_ROWS = SEARCH_PAGE_REACH;

/** `%`, `_` and the escape character itself match literally inside a LIKE pattern (ESCAPE '\'). */
export function likePattern(term: string): string {
  return `%${term.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/**
 * Listing and statistics in SQL. The search is ILIKE over the four columns; on PostgreSQL with pg_trgm one
 * trigram GIN index over their concatenation finds the candidates (migration GrowthIndexes1764540000000) and
 * each column is rechecked; without the extension (PGlite) it scans, which the embedded mode's size allows.
 * Every value is a bound parameter, quotes included.
 */
export class TypeOrmUserDirectory implements UserDirectory {
  constructor(private readonly manager: EntityManager) {}

  async count(filter: UserFilter, atMost?: number): Promise<number> {
    const { where, params } = conditions(filter, true);
    const sql =
      atMost === undefined
        ? `SELECT count(*)::int AS n FROM users u ${where}`
        : `SELECT count(*)::int AS n FROM (SELECT 1 FROM users u ${where} LIMIT ${Math.max(0, Math.floor(atMost))}) m`;
    const counted: { n: number }[] = await this.manager.query(sql, params);
    return counted[0]?.n ?? 0;
  }

  async page(query: UserQuery, options: PageOptions = {}): Promise<User[]> {
    const order = ORDER[query.sort][query.order];
    const select = `${selectList(this.manager, UserRecord, 'u')}, ${CREDENTIALS_JSON}`;
    const size = query.limit + (options.lookahead ? 1 : 0);
    const offset = (query.page - 1) * query.limit;
    const run = async (sql: (where: string, limit: string, offset: string) => string, byTrigrams: boolean) => {
      const { where, params } = conditions(query, byTrigrams);
      params.push(size, offset);
      const rows: UserRecordWithCredentials[] = await this.manager.query(sql(where, `$${params.length - 1}`, `$${params.length}`), params);
      return rows;
    };
    if (query.search === undefined || query.search === '') {
      // The rows skipped by OFFSET are read from the sort's index alone (an index-only scan where the visibility
      // map allows: every sort index holds its key), and only the page's rows from the table.
      const key = KEY[query.sort];
      return (
        await run(
          (where, limit, off) =>
            `SELECT ${select} FROM users u JOIN (SELECT u.${key} FROM users u ${where} ORDER BY ${order} LIMIT ${limit} OFFSET ${off}) p ON p.${key} = u.${key} ORDER BY ${order}`,
          false,
        )
      ).map(toUser);
    }
    if ((options.matches ?? 0) >= WALK_FROM_MATCHES && offset + size <= WALK_ROWS) {
      // Many matches: the first WALK_ROWS users in the sort order likely hold the page. If they hold all of its
      // rows, those are the page (no match outside the prefix comes before them); if not, collect below.
      const rows = await run(
        (where, limit, off) => `SELECT ${select} FROM (SELECT * FROM users u ORDER BY ${order} LIMIT ${WALK_ROWS}) u ${where} ORDER BY ${order} LIMIT ${limit} OFFSET ${off}`,
        false,
      );
      if (rows.length === size) return rows.map(toUser);
    }
    // Few matches (or a page the prefix did not hold): every match by the trigram index, then sorted. MATERIALIZED
    // keeps the planner from walking the sort order instead on a guess, which costs a scan when the matches are few.
    const rows = await run(
      (where, limit, off) => `WITH m AS MATERIALIZED (SELECT * FROM users u ${where}) SELECT ${select} FROM m u ORDER BY ${order} LIMIT ${limit} OFFSET ${off}`,
      true,
    );
    return rows.map(toUser);
  }

  async stats(periods: StatsPeriods): Promise<UserStats> {
    const rows: Record<string, number>[] = await this.manager.query(
      `SELECT count(*)::int AS total,
        count(*) FILTER (WHERE status = 'active' AND (locked_until IS NULL OR locked_until <= $4))::int AS active,
        count(*) FILTER (WHERE email_verified)::int AS verified,
        count(*) FILTER (WHERE created_at >= $1)::int AS today,
        count(*) FILTER (WHERE created_at >= $2)::int AS week,
        count(*) FILTER (WHERE created_at >= $3)::int AS month
      FROM users`,
      [periods.dayStart, periods.weekStart, periods.monthStart, periods.now],
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
function conditions(filter: UserFilter, byTrigrams: boolean): { where: string; params: unknown[] } {
  const clauses: string[] = [];
  const params: unknown[] = [];
  const param = (value: unknown) => {
    params.push(value);
    return `$${params.length}`;
  };
  if (filter.search !== undefined && filter.search !== '') {
    // ILIKE folds only ASCII under a C collation (PGlite's): addresses are stored lower-cased, so they are matched
    // by the lower-cased term too (`Émile` finds émile@...; an outside review, 2026-12-02); names as typed, by either.
    // One code point at a time, as the stored addresses were folded (Email's lowerEachCodePoint: a capital sigma).
    // The forms per column are searchTerms' (an outside review, 2026-12-07: names by the typed term as well as by
    // the NFKC one). One parameter per distinct pattern, so an ASCII term is still one ILIKE per column.
    const terms = searchTerms(filter.search);
    const placeholders = new Map<string, string>();
    const like = (column: string, forms: readonly string[]) => {
      const ps = [...new Set(forms.map((form) => likePattern(form)))].map((pattern) => {
        const known = placeholders.get(pattern);
        if (known !== undefined) return known;
        const p = param(pattern);
        placeholders.set(pattern, p);
        return p;
      });
      const each = ps.map((p) => `${column} ILIKE ${p} ESCAPE '\\'`);
      return each.length === 1 ? each[0]! : `(${each.join(' OR ')})`;
    };
    const address = lowerEachCodePoint(terms.stored);
    const names = terms.names.flatMap((term) => [term, lowerEachCodePoint(term)]);
    // The index condition's forms include every column's (a necessary condition, ORed ILIKEs over the one expression:
    // a BitmapOr of its trigram index scans), so it holds for every row a column below matches.
    if (byTrigrams) clauses.push(like(USER_SEARCH_TEXT, [...names, ...terms.addresses]));
    clauses.push(`(${like('u.email', terms.addresses)} OR ${like('u.username', [terms.stored, address])} OR ${like('u.first_name', names)} OR ${like('u.last_name', names)})`);
  }
  // The status as presented (User.statusOf): a lock ahead of `now` makes an active account `locked`.
  if (filter.status === 'locked') clauses.push(`u.status = 'active' AND u.locked_until > ${param(filter.now)}`);
  else if (filter.status === 'active') clauses.push(`u.status = 'active' AND (u.locked_until IS NULL OR u.locked_until <= ${param(filter.now)})`);
  else if (filter.status !== undefined) clauses.push(`u.status = ${param(filter.status)}`);
  if (filter.role !== undefined) clauses.push(`${param(filter.role)} = ANY(u.roles)`);
  return { where: clauses.length > 0 ? `WHERE ${clauses.join(' AND ')}` : '', params };
}

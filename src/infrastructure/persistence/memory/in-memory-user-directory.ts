import { lowerEachCodePoint } from '@domain/user/email';
import { searchTerms, type PageOptions, type StatsPeriods, type UserDirectory, type UserFilter, type UserQuery, type UserStats } from '@application/ports/user-directory';
import { User, type UserState, type UserStatus } from '@domain/user/user';
import type { InMemoryDatabase } from './in-memory-database';

/** The SQL adapter's semantics over the in-memory users: ILIKE as a lower-case substring, the same stable order. */
export class InMemoryUserDirectory implements UserDirectory {
  constructor(private readonly db: InMemoryDatabase) {}

  async count(filter: UserFilter, atMost?: number): Promise<number> {
    const n = this.matching(filter).length;
    return atMost === undefined ? n : Math.min(n, atMost);
  }

  async page(query: UserQuery, options: PageOptions = {}): Promise<User[]> {
    const matches = this.matching(query);
    const sign = query.order === 'asc' ? 1 : -1;
    matches.sort((a, b) => {
      const [x, y] = [sortKey(a, query.sort), sortKey(b, query.sort)];
      if (x === null || y === null) return x === y ? sign * compare(a.id, b.id) : x === null ? 1 : -1; // NULLS LAST
      return sign * (compare(x, y) || compare(a.id, b.id));
    });
    const start = (query.page - 1) * query.limit;
    return matches.slice(start, start + query.limit + (options.lookahead ? 1 : 0)).map((u) => User.restore(structuredClone(u)));
  }

  private matching(filter: UserFilter): UserState[] {
    // searchTerms' forms per column, as the SQL adapter: addresses and usernames by the NFKC term, names also by the
    // term as typed (an outside review, 2026-12-07).
    const terms = filter.search ? searchTerms(filter.search) : null;
    const stored = terms === null ? '' : lowerEachCodePoint(terms.stored);
    const names = terms === null ? [] : terms.names.map(lowerEachCodePoint);
    const addresses = terms === null ? [] : terms.addresses;
    const has = (value: string | null, term: string) => value !== null && lowerEachCodePoint(value).includes(term);
    return [...this.db.tables.users.values()].filter(
      (u) =>
        (terms === null || addresses.some((term) => has(u.email, term)) || has(u.username, stored) || names.some((term) => has(u.firstName, term) || has(u.lastName, term))) &&
        (filter.status === undefined || presentedStatus(u, filter.now) === filter.status) &&
        (filter.role === undefined || u.roles.includes(filter.role)),
    );
  }

  async stats(periods: StatsPeriods): Promise<UserStats> {
    const users = [...this.db.tables.users.values()];
    const since = (start: Date) => users.filter((u) => u.createdAt.getTime() >= start.getTime()).length;
    return {
      totalUsers: users.length,
      activeUsers: users.filter((u) => presentedStatus(u, periods.now) === 'active').length,
      verifiedUsers: users.filter((u) => u.emailVerified).length,
      newUsersToday: since(periods.dayStart),
      newUsersThisWeek: since(periods.weekStart),
      newUsersThisMonth: since(periods.monthStart),
    };
  }
}

/** The status as presented at `now` (a recorded lock ahead of it makes an active account `locked`). */
function presentedStatus(user: UserState, now: Date): UserStatus {
  return User.statusOf(user.status, user.credentials.lockedUntil, now);
}

function sortKey(user: UserState, sort: UserQuery['sort']): string | number | null {
  if (sort === 'email') return user.email;
  if (sort === 'created_at') return user.createdAt.getTime();
  return user.lastLoginAt?.getTime() ?? null;
}

function compare(a: string | number, b: string | number): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

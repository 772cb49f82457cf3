import { Email, lowerEachCodePoint } from '@domain/user/email';
import type { User, UserStatus } from '@domain/user/user';

/**
 * A search's matches are counted up to this many: above it `total` is this number and not exact (a lower
 * bound; `has_next` stays exact). Every match counted is a row read and rechecked: at 10^6 users, with the heap
 * larger than PostgreSQL's default shared buffers, counting to 10,001 cost 100-125 ms, to 1,001 12-25 ms.
 */
export const SEARCH_COUNT_CAP = 1_000;
/**
 * How deep a search with more matches than the cap may page (offset + limit): as deep as the directory's bounded walk
 * over the first users in the list's order reaches. Deeper, the page was found by collecting and sorting every match
 * (a review of stop 65: `search=@&page=999999999` sorted the whole table, seconds of database time per request).
 */
export const SEARCH_PAGE_REACH = 20_000;

export type UserSort = 'created_at' | 'email' | 'last_login_at';
export type SortOrder = 'asc' | 'desc';

/** Which users: every member optional. */
export interface UserFilter {
  /**
   * Case-insensitive substring of the email, username, first or last name; taken literally (`%`, `_`, `\` and
   * quotes match themselves). As typed: each column is matched in the forms searchTerms() gives.
   */
  search?: string;
  /**
   * The status as presented (User.statusAt): `locked` = stored `active` with a recorded login lock ahead of `now`;
   * `active` = stored `active` without one. So the four statuses split the accounts, as the list shows them.
   */
  status?: UserStatus;
  role?: string;
  /** The instant a lock is judged at (the Clock's now); only `status` locked or active depends on it. */
  now: Date;
}

/**
 * The forms a search term (UserFilter.search, as typed) is looked for in, one rule for every adapter. Addresses and
 * usernames are stored in NFKC: the term in NFKC finds them (a fullwidth `ｊｏｈｎ` finds john@...; an outside review,
 * 2026-12-02). First and last names are stored as typed: the term as typed and the term in NFKC. Until an outside
 * review, 2026-12-07, names were matched by the NFKC term alone, so a name holding compatibility characters
 * (half-width katakana `ｻﾄｳ`, fullwidth Latin, the ligature `ﬁ`) was not found by its own exact spelling. (A name is
 * not found by its NFKC form, `サトウ` for a stored `ｻﾄｳ`: that would take NFKC of the stored names, and an index on it.)
 * The adapters also match each form lower-cased one code point at a time (lowerEachCodePoint, as addresses are folded).
 */
export function searchTerms(search: string): { stored: string; names: readonly string[]; addresses: readonly string[] } {
  const stored = search.normalize('NFKC');
  // Addresses also by the term as Email folds it (NFKC, lower case, NFKC again; an `xn--` label decoded; a quoted
  // local part unquoted): until an outside review (2026-12-08) `bob@XN--BCHER-KVA.example` and `J̌OHN` did not find
  // the stored `bob@bücher.example` and `ǰohn@…`.
  const addresses = [...new Set([lowerEachCodePoint(stored), Email.canonicalize(search)])];
  return { stored, names: stored === search ? [stored] : [search, stored], addresses };
}

export interface UserQuery extends UserFilter {
  /** 1-based. */
  page: number;
  /** 1-100. */
  limit: number;
  sort: UserSort;
  order: SortOrder;
}

export interface UserPage {
  users: User[];
  /**
   * How many users match the filters, over all pages: exact when `totalExact`, else a lower bound (a search
   * matching more than the count's cap reports the cap).
   */
  total: number;
  totalExact: boolean;
  /** Whether a page after this one has users (known from the rows, not from the total). */
  hasNext: boolean;
}

/** How a page is looked for; neither option changes which users a page holds. */
export interface PageOptions {
  /** Fetch one user more than the limit, so the caller learns whether a next page exists. */
  lookahead?: boolean;
  /**
   * At least this many users match (a count made just before): with many matches the adapter walks the sort
   * order and stops at the page, rather than collecting every match and sorting them.
   */
  matches?: number;
}

/** Start instants (UTC) of the periods the statistics count new users in. */
export interface StatsPeriods {
  /** The instant counted at: an account locked at it counts as locked, not active (as `status=active` lists). */
  now: Date;
  dayStart: Date;
  weekStart: Date;
  monthStart: Date;
}

export interface UserStats {
  totalUsers: number;
  /** Active and not locked at the periods' `now`: the total of `status=active`. */
  activeUsers: number;
  verifiedUsers: number;
  newUsersToday: number;
  newUsersThisWeek: number;
  newUsersThisMonth: number;
}

/**
 * Read-only queries over all accounts for the admin API: never for saving (users are saved through the unit of
 * work). Sorting is stable (ties by id); `last_login_at` puts never-logged-in users last in either order.
 */
export interface UserDirectory {
  /** One page of the matching users (one more with `lookahead`). */
  page(query: UserQuery, options?: PageOptions): Promise<User[]>;
  /**
   * How many users match, exactly; with `atMost`, counting stops there (the result is min(matches, atMost)),
   * which bounds the cost of a broad filter.
   */
  count(filter: UserFilter, atMost?: number): Promise<number>;
  /** Exact counts; created_at at or after a period's start counts in it. */
  stats(periods: StatsPeriods): Promise<UserStats>;
}

import { inject, injectable } from 'inversify';
import type { Clock } from '../ports/clock';
import { Errors } from '../shared/errors';
import { SEARCH_COUNT_CAP, SEARCH_PAGE_REACH, type UserDirectory, type UserFilter, type UserPage, type UserQuery } from '../ports/user-directory';
import { PORTS } from '../ports/tokens';

/** How long a filter's total is reused: paging through one listing counts its matches once. */
export const COUNT_CACHE_SECONDS = 5;
const COUNT_CACHE_ENTRIES = 100;
/**
 * GET /admin/users: one page of the accounts matching the filters, with the total. Without a search the total is
 * exact as of at most COUNT_CACHE_SECONDS ago (of the Clock); a search's total is exact up to SEARCH_COUNT_CAP
 * matches and the cap beyond. The page is fetched with one row more than the limit, so whether a next page
 * exists is known even when the total is a bound.
 */
@injectable()
export class ListUsers {
  private readonly totals = new Map<string, { at: number; total: Promise<number> }>();

  constructor(
    @inject(PORTS.UserDirectory) private readonly directory: UserDirectory,
    @inject(PORTS.Clock) private readonly clock: Clock,
  ) {}

  /** `status` locked or active is judged at the Clock's now (UserFilter.now). */
  async execute(input: Omit<UserQuery, 'now'>): Promise<UserPage> {
    // The term as typed: the directory matches addresses by its NFKC form and as Email folds it, names by the NFKC
    // form or as typed (searchTerms; until an
    // outside review, 2026-12-07, it got the NFKC form alone, and a name holding compatibility characters was not
    // found by its own spelling). The count cache is keyed by it too: two terms with one NFKC form match differently.
    const query: UserQuery = { ...input, now: this.clock.now() };
    const searching = query.search !== undefined && query.search !== '';
    const counted = await this.total(query, searching ? SEARCH_COUNT_CAP + 1 : undefined);
    const totalExact = !searching || counted <= SEARCH_COUNT_CAP;
    const total = totalExact ? counted : SEARCH_COUNT_CAP;
    const offset = (query.page - 1) * query.limit;
    if (totalExact && offset >= total) return { users: [], total, totalExact, hasNext: false };
    if (!totalExact && offset + query.limit > SEARCH_PAGE_REACH) {
      throw Errors.validation('page', `a search with more than ${SEARCH_COUNT_CAP} matches pages through its first ${SEARCH_PAGE_REACH} at most: narrow it`);
    }
    const rows = await this.directory.page(query, { lookahead: true, matches: counted });
    const users = rows.slice(0, query.limit);
    // An exact total decides has_next (the page and the total agree even if a row came or went meanwhile).
    const hasNext = totalExact ? offset + query.limit < total : rows.length > query.limit;
    return { users, total, totalExact, hasNext };
  }

  private total(filter: UserFilter, atMost: number | undefined): Promise<number> {
    const key = JSON.stringify([filter.search ?? '', filter.status ?? null, filter.role ?? null]);
    const now = this.clock.now().getTime();
    const hit = this.totals.get(key);
    if (hit && now >= hit.at && now - hit.at < COUNT_CACHE_SECONDS * 1000) return hit.total;
    const total = this.directory.count(filter, atMost);
    const entry = { at: now, total };
    this.totals.delete(key);
    this.totals.set(key, entry);
    // The oldest entries go first (a Map keeps insertion order).
    while (this.totals.size > COUNT_CACHE_ENTRIES) this.totals.delete(this.totals.keys().next().value!);
    total.catch(() => {
      if (this.totals.get(key) === entry) this.totals.delete(key);
    });
    return total;
  }
}

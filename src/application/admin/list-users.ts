import { inject, injectable } from 'inversify';
import type { Clock } from '../ports/clock';
import type { UserDirectory, UserFilter, UserPage, UserQuery } from '../ports/user-directory';
import { PORTS } from '../ports/tokens';

/** How long a filter's total is reused: paging through one listing counts its matches once. */
export const COUNT_CACHE_SECONDS = 5;
const COUNT_CACHE_ENTRIES = 100;

/**
 * GET /admin/users: one page of the accounts matching the filters, with the total. The total is exact as of at
 * most COUNT_CACHE_SECONDS ago (of the Clock): at 10^6 users, counting every match of a broad filter (or all users)
 * costs far more than the page itself, and an admin paging or refreshing asks for the same count again.
 */
@injectable()
export class ListUsers {
  private readonly totals = new Map<string, { at: number; total: Promise<number> }>();

  constructor(
    @inject(PORTS.UserDirectory) private readonly directory: UserDirectory,
    @inject(PORTS.Clock) private readonly clock: Clock,
  ) {}

  async execute(query: UserQuery): Promise<UserPage> {
    const total = await this.total(query);
    const users = (query.page - 1) * query.limit < total ? await this.directory.page(query) : [];
    return { users, total };
  }

  private total(filter: UserFilter): Promise<number> {
    const key = JSON.stringify([filter.search ?? '', filter.status ?? null, filter.role ?? null]);
    const now = this.clock.now().getTime();
    const hit = this.totals.get(key);
    if (hit && now >= hit.at && now - hit.at < COUNT_CACHE_SECONDS * 1000) return hit.total;
    const total = this.directory.count(filter);
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

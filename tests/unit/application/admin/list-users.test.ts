import 'reflect-metadata';
import { ListUsers } from '@application/admin/list-users';
import { SEARCH_COUNT_CAP, SEARCH_PAGE_REACH } from '@application/ports/user-directory';
import type { PageOptions, UserDirectory, UserFilter, UserQuery } from '@application/ports/user-directory';
import type { User } from '@domain/user/user';
import { ManualClock } from '@infrastructure/time/system-clock';
import { aUser, aVerifiedUser } from '../../../support/mothers';
import { createKit } from '../support/test-kit';

/** A directory of `matches` identical users: counts honour the cap, pages honour the lookahead. */
function directory(matches: number) {
  const calls: { counts: (number | undefined)[]; pages: PageOptions[] } = { counts: [], pages: [] };
  const user = aUser();
  const port: UserDirectory = {
    async count(_filter: UserFilter, atMost?: number) {
      calls.counts.push(atMost);
      return atMost === undefined ? matches : Math.min(matches, atMost);
    },
    async page(query: UserQuery, options: PageOptions = {}) {
      calls.pages.push(options);
      const start = (query.page - 1) * query.limit;
      const n = Math.max(0, Math.min(matches - start, query.limit + (options.lookahead ? 1 : 0)));
      return Array.from({ length: n }, (): User => user);
    },
    stats: () => Promise.reject(new Error('not used')),
  };
  return { port, calls };
}

const query = (overrides: Partial<UserQuery>): Omit<UserQuery, 'now'> => ({ page: 1, limit: 20, sort: 'created_at', order: 'desc', ...overrides });

describe('ListUsers: totals', () => {
  const clock = new ManualClock(new Date('2026-03-01T00:00:00Z'));

  it('a search past the cap pages only as deep as SEARCH_PAGE_REACH: deeper is a 400 on page, before any page is read (a review, stop 65)', async () => {
    const many = directory(10 ** 6);
    const last = SEARCH_PAGE_REACH / 100;
    await expect(new ListUsers(many.port, clock).execute(query({ search: '@', limit: 100, page: last }))).resolves.toMatchObject({ totalExact: false });
    await expect(new ListUsers(many.port, clock).execute(query({ search: '@', limit: 100, page: last + 1 }))).rejects.toMatchObject({
      code: 'VALIDATION_ERROR',
      details: { page: [expect.stringContaining('narrow')] },
    });
    await expect(new ListUsers(many.port, clock).execute(query({ search: '@', limit: 100, page: 999_999_999 }))).rejects.toMatchObject({ code: 'VALIDATION_ERROR' });
    expect(many.calls.pages).toHaveLength(1);
    // Without a search the total is exact, and a page past it is empty as before.
    await expect(new ListUsers(directory(50).port, clock).execute(query({ limit: 100, page: 999_999_999 }))).resolves.toMatchObject({ users: [], hasNext: false });
  });

  it('a search counts up to the cap: exact below it, the cap (not exact) above it, has_next from the lookahead row', async () => {
    const few = directory(45);
    const page = await new ListUsers(few.port, clock).execute(query({ search: 'x', page: 3 }));
    expect(page).toMatchObject({ total: 45, totalExact: true, hasNext: false });
    expect(page.users).toHaveLength(5);
    expect(few.calls.counts).toEqual([SEARCH_COUNT_CAP + 1]);

    const many = directory(SEARCH_COUNT_CAP * 3);
    const list = new ListUsers(many.port, clock);
    await expect(list.execute(query({ search: 'y' }))).resolves.toMatchObject({ total: SEARCH_COUNT_CAP, totalExact: false, hasNext: true });
    // Past the capped total's pages, the rows still come and has_next still tells the truth.
    const deep = await list.execute(query({ search: 'y', page: SEARCH_COUNT_CAP / 20 + 10 }));
    expect(deep).toMatchObject({ total: SEARCH_COUNT_CAP, totalExact: false, hasNext: true });
    expect(deep.users).toHaveLength(20);
    const end = await list.execute(query({ search: 'y', page: (SEARCH_COUNT_CAP * 3) / 20 }));
    expect(end).toMatchObject({ hasNext: false });
    expect(end.users).toHaveLength(20);
    expect(many.calls.pages.every((options) => options.lookahead === true && options.matches === SEARCH_COUNT_CAP + 1)).toBe(true);
  });

  it('exactly the cap is still exact', async () => {
    const edge = directory(SEARCH_COUNT_CAP);
    await expect(new ListUsers(edge.port, clock).execute(query({ search: 'z' }))).resolves.toMatchObject({ total: SEARCH_COUNT_CAP, totalExact: true, hasNext: true });
  });

  it('without a search the total is exact however large, and a page past it reads nothing', async () => {
    const all = directory(SEARCH_COUNT_CAP * 5);
    const list = new ListUsers(all.port, clock);
    await expect(list.execute(query({ status: 'active' }))).resolves.toMatchObject({ total: SEARCH_COUNT_CAP * 5, totalExact: true, hasNext: true });
    expect(all.calls.counts).toEqual([undefined]);
    const beyond = await list.execute(query({ status: 'active', page: 10_000 }));
    expect(beyond).toMatchObject({ users: [], hasNext: false });
    expect(all.calls.pages).toHaveLength(1);
  });
});

describe('ListUsers: the search term', () => {
  it('is read in the form addresses are stored in (NFKC): a fullwidth term finds the address', async () => {
    const kit = await createKit();
    const john = aVerifiedUser({ email: 'john.doe@example.com', firstName: 'John', username: null });
    await kit.uow.run((tx) => tx.users.add(john));
    const page = await kit.useCases.ListUsers.execute(query({ search: 'ｊｏｈｎ．ｄｏｅ' }));
    expect(page.users.map((u) => u.id)).toEqual([john.id]);
  });

  it('finds a name holding compatibility characters by its own spelling (names are stored as typed, not in NFKC)', async () => {
    // An outside review, 2026-12-07: the term reached the directory in NFKC only, so `ｻﾄｳ` looked for `サトウ` and a
    // last name stored as `ｻﾄｳ` was not found by exactly what it holds (total 0); fullwidth Latin and `ﬁ` alike.
    const kit = await createKit();
    const halfwidth = aVerifiedUser({ email: 'sato1@example.com', firstName: 'Ｋｅｎ', lastName: 'ｻﾄｳ' });
    const fullwidth = aVerifiedUser({ email: 'sato2@example.com', firstName: 'ﬁona', lastName: 'サトウ' });
    await kit.uow.run(async (tx) => {
      await tx.users.add(halfwidth);
      await tx.users.add(fullwidth);
    });
    const found = async (search: string) => {
      const page = await kit.useCases.ListUsers.execute(query({ search, sort: 'email', order: 'asc' }));
      return { search, total: page.total, emails: page.users.map((u) => u.email) };
    };
    // As typed it finds `ｻﾄｳ`, in NFKC `サトウ`; `サトウ` does not find `ｻﾄｳ` (that would need the names in NFKC).
    // The count cache tells the two terms apart, though they have one NFKC form.
    await expect(found('ｻﾄｳ')).resolves.toEqual({ search: 'ｻﾄｳ', total: 2, emails: ['sato1@example.com', 'sato2@example.com'] });
    await expect(found('サトウ')).resolves.toEqual({ search: 'サトウ', total: 1, emails: ['sato2@example.com'] });
    await expect(found('Ｋｅｎ')).resolves.toEqual({ search: 'Ｋｅｎ', total: 1, emails: ['sato1@example.com'] });
    await expect(found('ﬁona')).resolves.toEqual({ search: 'ﬁona', total: 1, emails: ['sato2@example.com'] });
  });
});

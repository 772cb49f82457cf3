import { type TestApp, PASSWORD, signUp, MODES, NO_LIMITS, startSecureApp } from '../support/app';

const ROUNDS = 4;
const LIMIT = 3;

/**
 * SESSION_MAX_PER_USER (a review, 2026-12-07: an account's live sessions were unbounded, and its sessions list or a
 * global logout loaded them all at once). Bursts of sign-ins at once through the HTTP API, on PGlite and on the real
 * PostgreSQL and Redis: once the work after their answers is done, the account holds exactly the limit, the
 * sessions list shows that many, and the ended sessions' tokens are refused.
 */
describe.each(MODES)('the session limit under bursts of sign-ins (%s)', (mode) => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startSecureApp(mode, { ...NO_LIMITS, SESSION_MAX_PER_USER: String(LIMIT) });
  }, 60_000);
  afterAll(async () => t?.stop());

  it(`holds ${LIMIT} live sessions, the newest, after each burst of 8 (${ROUNDS} rounds)`, async () => {
    const email = `limit-${mode}@example.com`;
    await signUp(t, email);
    for (let round = 0; round < ROUNDS; round += 1) {
      // The app's clock stands still unless moved: each burst a second after the last (sessions that began at the
      // same instant are ordered by id).
      t.clock.advance(1);
      const burst = await Promise.all(Array.from({ length: 8 }, () => t.http.post('/api/v1/auth/login').send({ email, password: PASSWORD })));
      expect(burst.map((r) => r.status)).toEqual(Array(8).fill(200));
      await t.settle();
      const tokens = burst.map((r) => r.body.data.tokens as { access_token: string; refresh_token: string });
      const judged = await Promise.all(tokens.map((tk) => t.http.get('/api/v1/auth/validate').set('Authorization', `Bearer ${tk.access_token}`)));
      const alive = judged.filter((r) => r.status === 200);
      expect({ alive: alive.length, refused: judged.filter((r) => r.status === 401).length }).toEqual({ alive: LIMIT, refused: 8 - LIMIT });
      const own = tokens[judged.indexOf(alive[0]!)]!.access_token;
      const list = await t.http.get('/api/v1/users/me/sessions').set('Authorization', `Bearer ${own}`);
      expect(list.status).toBe(200);
      expect(list.body.data.sessions).toHaveLength(LIMIT);
      // An ended session's refresh token is refused too.
      const endedAt = judged.findIndex((r) => r.status === 401);
      const refresh = await t.http.post('/api/v1/auth/refresh').send({ refresh_token: tokens[endedAt]!.refresh_token });
      expect(refresh.status).toBe(401);
    }
  });
});

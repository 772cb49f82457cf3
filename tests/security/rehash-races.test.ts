import { randomUUID } from 'node:crypto';
import argon2 from 'argon2';
import { MODES, NO_RATE_LIMITS, PASSWORD, signUp, startSecureApp, type TestApp } from '../support/app';

const ROUNDS = 5;
const NEW_PASSWORD = 'a different and long passphrase';

/**
 * A review of stop 50: a rehash on login (hashing parameters raised, or a hash of the typed form) changes the stored
 * hash but not the password. The locked half of a login, and of each route that asks for the current password,
 * compared the hash it checked with the one under the lock, and read a rehash by a parallel login as "the password
 * changed meanwhile": after ARGON2_* was raised, 3 of 4 parallel logins with the right password got 401, and a
 * password change racing a login on another device answered "wrong password". A rehash keeps the password's
 * changedAt, and the typed password is then checked against the new hash.
 */
describe.each(MODES)('a rehash on login racing other uses of the same password (%s)', (mode) => {
  let t: TestApp;
  beforeAll(async () => {
    // The test's parameters are m=1024, t=1 (CHEAP_HASHING, the default here): a hash with t=2 needs a rehash.
    t = await startSecureApp(mode, { ...NO_RATE_LIMITS });
  }, 60_000);
  afterAll(async () => t?.stop());

  /** A verified account whose stored hash was made with other parameters than the service's. */
  async function withStaleHash(): Promise<{ email: string; userId: string; access: string }> {
    const email = `rehash-${randomUUID()}@example.com`;
    const { user, tokens } = await signUp(t, email);
    const stale = await argon2.hash(PASSWORD, { type: argon2.argon2id, memoryCost: 1024, timeCost: 2, parallelism: 1 });
    await t.app.infra.dataSource.query(`UPDATE user_credentials SET secret = $1 WHERE user_id = $2 AND type = 'password'`, [stale, user.id]);
    return { email, userId: user.id, access: tokens.access_token };
  }

  const login = (email: string, password = PASSWORD) => t.http.post('/api/v1/auth/login').send({ email, password });

  it('parallel logins with the right password all sign in; the hash is rehashed once, to the current parameters', async () => {
    for (let round = 0; round < ROUNDS; round += 1) {
      const { email, userId } = await withStaleHash();
      const answers = await Promise.all([1, 2, 3, 4].map(() => login(email)));
      expect(answers.map((r) => [r.status, r.body.error?.code])).toEqual(answers.map(() => [200, undefined]));
      const [{ secret }] = (await t.app.infra.dataSource.query(`SELECT secret FROM user_credentials WHERE user_id = $1 AND type = 'password'`, [userId])) as { secret: string }[];
      expect(secret).toMatch(/^\$argon2id\$v=19\$m=1024,t=1,p=1\$/);
      await login(email).expect(200);
    }
    await t.settle();
    const refused = (await t.app.infra.dataSource.query(`SELECT count(*)::int AS n FROM audit_events WHERE type = 'login.failed' AND reason = 'credentials_changed'`)) as { n: number }[];
    expect(refused[0]!.n).toBe(0);
  });

  it('a password change racing a login that rehashes: the change succeeds; afterwards only the new password signs in', async () => {
    for (let round = 0; round < ROUNDS; round += 1) {
      const { email, access } = await withStaleHash();
      const [change, signIn] = await Promise.all([
        t.http.put('/api/v1/auth/password/change').set('Authorization', `Bearer ${access}`).send({ current_password: PASSWORD, new_password: NEW_PASSWORD }),
        login(email),
      ]);
      expect([change.status, change.body.error?.code]).toEqual([200, undefined]);
      // The login either came first (200) or found the password changed (401); never a 500.
      expect([200, 401]).toContain(signIn.status);
      await login(email, NEW_PASSWORD).expect(200);
      expect((await login(email)).status).toBe(401);
    }
  });
});

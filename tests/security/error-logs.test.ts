import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import { createLogger } from '@infrastructure/logging/pino-logger';
import { type TestApp, MODES, NO_RATE_LIMITS, startSecureApp } from '../support/app';

const PASSWORD = 'correct horse battery staple';

/** Every key anywhere in a parsed log line. */
function keysOf(value: unknown, into: string[] = []): string[] {
  if (value === null || typeof value !== 'object') return into;
  for (const [key, inner] of Object.entries(value)) {
    into.push(key);
    keysOf(inner, into);
  }
  return into;
}

describe.each(MODES)('a real database failure reaches the log without the row, the SQL or its parameters (%s)', (mode) => {
  let t: TestApp;
  const lines: string[] = [];
  beforeAll(async () => {
    const sink = new Writable({ write: (chunk: Buffer, _encoding, done) => void (lines.push(...chunk.toString('utf8').split('\n').filter((l) => l !== '')), done()) });
    t = await startSecureApp(mode, { ...NO_RATE_LIMITS, REQUIRE_EMAIL_VERIFICATION: 'false' }, { logger: createLogger('info', sink) });
  }, 60_000);
  afterAll(async () => t?.stop());

  it('logs the class, code and message of the QueryFailedError and none of the secrets it carried', async () => {
    const alice = 'alice.secret@example.com';
    const bob = 'bob.secret@example.com';
    const registered = await t.http.post('/api/v1/auth/register').send({ email: alice, password: PASSWORD }).expect(201);
    const refreshToken: string = registered.body.data.tokens.refresh_token;
    const [{ password_hash: passwordHash }] = (await t.app.infra.dataSource.query(
      `SELECT c.secret AS password_hash FROM user_credentials c JOIN users u ON u.id = c.user_id WHERE u.email = $1 AND c.type = 'password'`,
      [alice],
    )) as { password_hash: string }[];
    const refreshDigest = createHash('sha256').update(refreshToken, 'utf8').digest('hex');
    expect(passwordHash).toMatch(/^\$argon2id\$/);
    // From here every write to the table fails in PostgreSQL, with the row in the error's detail and parameters.
    const sabotage = (table: string) => t.app.infra.dataSource.query(`ALTER TABLE ${table} ADD CONSTRAINT sabotage_${table} CHECK (false) NOT VALID`);
    lines.length = 0;

    await sabotage('user_credentials');
    await t.http
      .put('/api/v1/auth/password/change')
      .set('Authorization', `Bearer ${registered.body.data.tokens.access_token as string}`)
      .send({ current_password: PASSWORD, new_password: 'an entirely new passphrase 42' })
      .expect(500);
    await sabotage('users');
    await t.http.post('/api/v1/auth/login').send({ email: alice, password: PASSWORD }).expect(500);
    await sabotage('sessions');
    await t.http.post('/api/v1/auth/refresh').send({ refresh_token: refreshToken }).expect(500);
    await t.http.post('/api/v1/auth/register').send({ email: bob, password: PASSWORD }).expect(500);

    const failures = lines.map((line) => JSON.parse(line) as { msg: string; err?: Record<string, unknown> }).filter((line) => line.msg === 'unhandled error');
    expect(failures).toHaveLength(4);
    for (const { err } of failures) {
      expect(err).toEqual(expect.objectContaining({ type: 'QueryFailedError', code: '23514', message: expect.stringMatching(/violates check constraint "sabotage_(user_credentials|users|sessions)"/) }));
    }
    const text = lines.join('\n');
    for (const secret of [passwordHash, '$argon2id$', refreshDigest, refreshToken, alice, bob, 'Failing row contains', 'INSERT INTO', 'UPDATE "']) {
      expect({ secret, found: text.includes(secret) }).toEqual({ secret, found: false });
    }
    const keys = lines.flatMap((line) => keysOf(JSON.parse(line)));
    for (const key of ['query', 'parameters', 'driverError', 'detail']) expect({ key, found: keys.includes(key) }).toEqual({ key, found: false });
  });
});

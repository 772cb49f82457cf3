import { Writable } from 'node:stream';
import { createLogger } from '@infrastructure/logging/pino-logger';
import { type TestApp, MODES, NO_RATE_LIMITS, startSecureApp } from '../support/app';

const PASSWORD = 'correct horse battery staple';
/** NFKC + lower-case make these the very address of the account. */
const SAME = ['ＡＬＩＣＥ@ｅｘａｍｐｌｅ.ｃｏｍ', 'Alice@Example.COM', '  alice@example.com ', 'ａlice@EXAMPLE.com'];
/** Look-alikes that are other addresses: Cyrillic а, Greek ο, Turkish İ, dotless ı, a zero-width space. */
const OTHERS = ['\u0430lice@example.com', 'alice@example.c\u03bfm', 'al\u0130ce@example.com', 'al\u0131ce@example.com', 'alice\u200b@example.com'];

describe.each(MODES)('Unicode email variants against an existing account (%s)', (mode) => {
  let t: TestApp;
  let aliceId: string;

  beforeAll(async () => {
    t = await startSecureApp(mode, NO_RATE_LIMITS);
    await t.http.post('/api/v1/auth/register').send({ email: 'alice@example.com', password: PASSWORD }).expect(202);
    await t.waitForMail('alice@example.com');
    aliceId = (await t.http.post('/api/v1/auth/verify').send({ token: t.lastMailedToken('alice@example.com') }).expect(200)).body.data.user.id;
  }, 60_000);
  afterAll(async () => t?.stop());

  const accounts = async () => (await t.app.infra.dataSource.query('SELECT email FROM users ORDER BY email')).map((r: { email: string }) => r.email);

  it('variants that canonicalise to the address reach that one account and never create a second', async () => {
    for (const variant of SAME) {
      const login = await t.http.post('/api/v1/auth/login').send({ email: variant, password: PASSWORD }).expect(200);
      expect(login.body.data.user.id).toBe(aliceId);
      await t.http.post('/api/v1/auth/register').send({ email: variant, password: 'another long passphrase here' }).expect(202);
    }
    expect(await accounts()).toEqual(['alice@example.com']);
    // The owner hears of each attempt ("you already have an account"): the verification mail plus one each.
    const last = await t.waitForMail('alice@example.com', 1 + SAME.length);
    expect(last.subject).toBe('You already have an account');
  });

  it('look-alike addresses are other accounts: they never log in to, reset or lock the real one', async () => {
    const mailsBefore = t.mailer.inbox('alice@example.com').length;
    for (const other of OTHERS) {
      const login = await t.http.post('/api/v1/auth/login').send({ email: other, password: PASSWORD });
      expect({ other, status: login.status, code: login.body.error?.code }).toEqual({ other, status: 401, code: 'INVALID_CREDENTIALS' });
      // A zero-width space is no mailbox character: that one is refused as input (400), the rest answered as usual.
      await t.http.post('/api/v1/auth/password/reset').send({ email: other }).expect(other.includes('\u200b') ? 400 : 202);
    }
    for (let i = 0; i < 5; i += 1) await t.http.post('/api/v1/auth/login').send({ email: OTHERS[0], password: 'wrong guess' });
    await t.http.post('/api/v1/auth/login').send({ email: 'alice@example.com', password: PASSWORD }).expect(200);
    expect(t.mailer.inbox('alice@example.com')).toHaveLength(mailsBefore);
    const look = await t.http.post('/api/v1/auth/register').send({ email: OTHERS[0], password: 'a look-alike passphrase 77' }).expect(202);
    expect(look.body.data.message).toBeDefined();
    // The account appears when the background worker has processed the request: its verification email says so.
    await t.waitForMail(OTHERS[0]!.normalize('NFKC').toLowerCase());
    expect(await accounts()).toEqual(['alice@example.com', OTHERS[0]!.normalize('NFKC').toLowerCase()].sort());
  });

  it('failures through equivalent variants add up on the one identifier and lock it', async () => {
    await t.http.post('/api/v1/auth/register').send({ email: 'bob@example.com', password: PASSWORD }).expect(202);
    for (const variant of ['BOB@example.com', 'ｂｏｂ@example.com', ' bob@Example.com', 'Bob@EXAMPLE.COM', 'bob@example.com']) {
      await t.http.post('/api/v1/auth/login').send({ email: variant, password: 'wrong guess' }).expect(401);
    }
    const answer = await t.http.post('/api/v1/auth/login').send({ email: 'ｂｏｂ@ｅｘａｍｐｌｅ.ｃｏｍ', password: PASSWORD });
    expect([answer.status, answer.body.error?.code]).toEqual([429, 'ACCOUNT_LOCKED']);
  });
});

describe('CR/LF in fields that reach logs', () => {
  it('cannot forge log lines: every line stays one JSON object, hostile request ids are replaced', async () => {
    const lines: string[] = [];
    const sink = new Writable({ write: (chunk: Buffer, _encoding, done) => void (lines.push(...chunk.toString('utf8').split('\n').filter((l) => l !== '')), done()) });
    const t = await startSecureApp(MODES[MODES.length - 1]!, NO_RATE_LIMITS, { logger: createLogger('debug', sink) });
    try {
      const forged = '\r\n{"level":"info","msg":"FORGED admin login"}\r\n';
      await t.http.post('/api/v1/auth/register').send({ email: `x${forged}@example.com`, password: PASSWORD, first_name: forged, username: forged });
      await t.http.post('/api/v1/auth/login').send({ email: `alice@example.com${forged}`, password: forged });
      await t.http.post('/api/v1/auth/login').send({ username: forged, password: PASSWORD });
      await t.http.post('/api/v1/auth/password/reset').send({ email: forged });
      await t.http.get(`/api/v1/auth/validate%0D%0A${encodeURIComponent(forged)}`);
      const hostileId = await t.http.get('/health/live').set('X-Request-ID', 'id {"msg":"FORGED"}');
      expect(hostileId.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
      expect(lines.length).toBeGreaterThan(5);
      for (const line of lines) {
        const parsed = JSON.parse(line) as Record<string, unknown>;
        expect(parsed.msg).not.toMatch(/FORGED/);
        expect(line.startsWith('{"level":"info","msg":"FORGED')).toBe(false);
      }
    } finally {
      await t.stop();
    }
  });
});

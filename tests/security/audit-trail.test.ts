import { type TestApp, MODES, NO_RATE_LIMITS, startSecureApp } from '../support/app';

const PASSWORD = 'correct horse battery staple';
const NEW_PASSWORD = 'a different and long passphrase';

/** The audit_events table after a full run of the flows, read as an operator would. */
describe.each(MODES)('audit trail in the database (%s)', (mode) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startSecureApp(mode, NO_RATE_LIMITS);
  }, 60_000);
  afterAll(async () => t?.stop());

  it('records the flows with request id, ip and user agent, and holds no password, token or secret', async () => {
    const secrets: string[] = [PASSWORD, NEW_PASSWORD, 'wrong guess 1'];
    const post = (path: string, body: object, id: string) =>
      t.http.post(`/api/v1/auth/${path}`).set('X-Request-ID', id).set('User-Agent', 'audit-test/1.0').send(body);
    await post('register', { email: 'alice@example.com', password: PASSWORD }, 'req-register').expect(202);
    await t.waitForMail('alice@example.com');
    secrets.push(t.lastMailedToken('alice@example.com'));
    await post('verify', { token: t.lastMailedToken('alice@example.com') }, 'req-verify').expect(200);
    for (let i = 0; i < 5; i += 1) await post('login', { email: 'alice@example.com', password: 'wrong guess 1' }, `req-fail-${i}`).expect(401);
    await post('login', { email: 'ghost@example.com', password: 'wrong guess 1' }, 'req-ghost').expect(401);
    await t.settle(); // the failures' bookkeeping follows their answers
    await post('password/reset', { email: 'alice@example.com' }, 'req-reset').expect(202);
    let token = '';
    for (let n = 2; !token; n += 1) token = /reset-password\?token=([\w-]+)/.exec((await t.waitForMail('alice@example.com', n)).text)?.[1] ?? '';
    secrets.push(token);
    await post('password/confirm', { token, new_password: NEW_PASSWORD }, 'req-confirm').expect(200);
    const login = await post('login', { email: 'alice@example.com', password: NEW_PASSWORD }, 'req-login').expect(200);
    const { access_token: access, refresh_token: refresh } = login.body.data.tokens;
    secrets.push(access, refresh);
    const rotated = await post('refresh', { refresh_token: refresh }, 'req-refresh').expect(200);
    secrets.push(rotated.body.data.tokens.refresh_token, rotated.body.data.tokens.access_token);
    t.clock.advance(11);
    await post('refresh', { refresh_token: refresh }, 'req-reuse').expect(401);

    const rows: Record<string, unknown>[] = await t.app.infra.dataSource.query(
      'SELECT type, outcome, reason, subject_id, actor_id, ip, user_agent, request_id, occurred_at FROM audit_events ORDER BY occurred_at, request_id',
    );
    const byRequest = (id: string) => rows.filter((r) => r.request_id === id).map((r) => `${r.type}/${r.outcome}/${r.reason ?? '-'}`);
    expect(byRequest('req-register')).toEqual(['user.registered/success/-']);
    expect(byRequest('req-verify')).toEqual(['email.verified/success/-']);
    expect(byRequest('req-fail-0')).toEqual(['login.failed/failure/wrong_password']);
    expect(byRequest('req-fail-4').sort()).toEqual(['account.locked/failure/locked_900s', 'login.failed/failure/wrong_password']);
    expect(byRequest('req-ghost')).toEqual(['login.failed/failure/unknown_account']);
    expect(byRequest('req-reset')).toEqual(['password.reset_requested/success/-']);
    expect(byRequest('req-confirm')).toEqual(['password.reset/success/-']);
    expect(byRequest('req-login')).toEqual(['login.succeeded/success/-']);
    expect(byRequest('req-reuse')).toEqual(['refresh_token.reuse_detected/failure/refresh_token_reuse']);
    for (const row of rows) expect(row).toMatchObject({ ip: expect.stringMatching(/127\.0\.0\.1|::1/), user_agent: 'audit-test/1.0' });
    const ghost = rows.find((r) => r.request_id === 'req-ghost')!;
    expect(ghost.subject_id).toBeNull();

    const dump = JSON.stringify(await t.app.infra.dataSource.query('SELECT * FROM audit_events'));
    for (const secret of secrets) expect(dump).not.toContain(secret);
  });
});

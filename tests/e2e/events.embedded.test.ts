import { OutboxEventRecord } from '@infrastructure/persistence/typeorm/entities';
import { eventually } from '../support/events';
import { signUp, startTestApp, type TestApp, expectNoSecrets } from '../support/app';

/** Embedded mode (no AMQP_URL): the same relay hands events to the in-process bus, and subscribers run unchanged. */
describe('domain events in embedded mode (PGlite, in-process bus)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ backend: 'pglite' });
  }, 60_000);
  afterAll(async () => t?.stop());

  const outbox = () => t.app.infra.dataSource.manager.find(OutboxEventRecord, { order: { createdAt: 'ASC' } });

  it('relays every committed event, and the security-notice subscriber emails the owner on refresh-token reuse', async () => {
    expect(t.app.infra.events.transport).toBe('in-process');
    const email = 'embedded@example.com';
    const { tokens } = await signUp(t, email);
    await t.http.post('/api/v1/auth/refresh').send({ refresh_token: tokens.refresh_token }).expect(200);
    t.clock.advance(30);
    await t.http.post('/api/v1/auth/refresh').send({ refresh_token: tokens.refresh_token }).expect(401);

    const notice = await t.waitForMail(email, 2);
    expect(notice.subject).toBe('We signed out a session of your account');
    expect(notice.text).not.toContain(tokens.refresh_token);
    await eventually(async () => (await outbox()).every((row) => row.publishedAt !== null), 10_000, 'every outbox row published');
    const types = (await outbox()).map((row) => row.type);
    expect(types).toEqual(expect.arrayContaining(['auth.user.registered', 'auth.user.email_verified', 'auth.user.logged_in', 'auth.session.refresh_reuse_detected', 'auth.session.revoked']));
    expectNoSecrets((await outbox()).map((row) => row.payload), [tokens.refresh_token, tokens.access_token]);
  });

  it('reports the broker in /health/ready (the in-process bus is up with the process)', async () => {
    const res = await t.http.get('/health/ready');
    expect(res.body.checks.broker).toBe('up');
  });
});

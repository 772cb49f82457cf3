import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MODES, NO_RATE_LIMITS, PASSWORD, signUp, startSecureApp, type TestApp } from '../support/app';
import { cliInProcess } from '../support/cli-in-process';
import { describeWhen } from '../support/servers';

/**
 * Two outside reviews (2026-12-02): every CLI command started the service's background workers (the outbox relay,
 * the email sender, the account-request worker, the subscribers) against the database it was pointed at. Run as
 * an operator would, with the service's DATABASE_URL and ENCRYPTION_KEY but not its AMQP_URL or SMTP_URL, a
 * one-shot command took the service's pending events (published to an in-process bus: marked published, never sent
 * to the broker), its e-mails (written to a dev mailbox on the operator's machine, marked sent) and its sign-up
 * and reset requests (processed with the command's APP_PUBLIC_URL). Now a command runs none of them.
 */
describeWhen(MODES.includes('servers'), 'PostgreSQL and Redis')('a CLI command leaves the service\'s queued work alone (servers)', () => {
  let t: TestApp;
  let cliEnv: Record<string, string>;
  beforeAll(async () => {
    const key = randomBytes(32).toString('hex');
    t = await startSecureApp('servers', { ...NO_RATE_LIMITS, ENCRYPTION_KEY: key });
    cliEnv = { DATABASE_URL: t.config.databaseUrl!, ENCRYPTION_KEY: key, DATA_DIR: mkdtempSync(join(tmpdir(), 'auth-cli-bg-')) };
  }, 60_000);
  afterAll(async () => {
    await t?.stop();
    if (cliEnv) rmSync(cliEnv.DATA_DIR!, { recursive: true, force: true });
  });

  const pending = async () => {
    const [row] = (await t.app.infra.dataSource.query(`
      SELECT (SELECT count(*) FROM outbox_events WHERE published_at IS NULL)::int AS events,
             (SELECT count(*) FROM email_outbox WHERE sent_at IS NULL AND failed_at IS NULL)::int AS emails,
             (SELECT count(*) FROM account_requests WHERE processed_at IS NULL)::int AS requests`)) as { events: number; emails: number; requests: number }[];
    return row!;
  };

  it('events, e-mails and account requests queued while the service\'s workers are busy elsewhere stay queued through a command', async () => {
    const { tokens } = await signUp(t, 'queued-owner@example.com');
    // The service's workers pause (as they would while its broker or relay is away): its work queues up.
    await t.app.infra.events.relay.stop();
    await t.app.infra.email.sender.stop();
    await t.app.infra.accountRequests.stop();
    await t.http.post('/api/v1/auth/login').send({ email: 'queued-owner@example.com', password: PASSWORD }).expect(200);
    await t.http
      .put('/api/v1/auth/password/change')
      .set('Authorization', `Bearer ${tokens.access_token}`)
      .send({ current_password: PASSWORD, new_password: 'another long passphrase 42' })
      .expect(200);
    await t.http.post('/api/v1/auth/register').send({ email: 'queued-new@example.com', password: PASSWORD }).expect(202);
    await t.http.post('/api/v1/auth/password/reset').send({ email: 'queued-owner@example.com' }).expect(202);
    const before = await pending();
    expect(before.events).toBeGreaterThan(0);
    expect(before.emails).toBeGreaterThan(0);
    expect(before.requests).toBe(2);

    for (const command of [['list-clients'], ['purge-expired']]) {
      const run = await cliInProcess(command, cliEnv);
      expect({ command, code: run.code, stderr: run.stderr }).toEqual({ command, code: 0, stderr: '' });
      expect({ command, pending: await pending() }).toEqual({ command, pending: before });
    }
    const mailbox = join(cliEnv.DATA_DIR!, 'mail');
    expect(existsSync(mailbox) ? readdirSync(mailbox) : []).toEqual([]);
  }, 60_000);

  it('purge-expired keeps published events as long as OUTBOX_RETENTION says (it used 7 days whatever the setting)', async () => {
    await t.app.infra.dataSource.query(`UPDATE outbox_events SET published_at = now() - interval '10 days', created_at = now() - interval '10 days'`);
    const published = async () => ((await t.app.infra.dataSource.query('SELECT count(*)::int AS n FROM outbox_events')) as { n: number }[])[0]!.n;
    const rows = await published();
    expect(rows).toBeGreaterThan(0);
    const kept = await cliInProcess(['purge-expired'], { ...cliEnv, OUTBOX_RETENTION: '30d' });
    const counts = JSON.parse(kept.stdout) as Record<string, unknown>;
    expect({ code: kept.code, outbox_events: counts.outbox_events }).toEqual({ code: 0, outbox_events: 0 });
    // snake_case keys, as every other command prints.
    expect(Object.keys(counts).filter((key) => /[A-Z]/.test(key))).toEqual([]);
    expect(counts).toMatchObject({ sessions: expect.any(Number), one_time_tokens: expect.any(Number), signing_keys_pruned: true });
    expect(await published()).toBe(rows);
    const purged = await cliInProcess(['purge-expired'], cliEnv); // the default, 7 days
    expect(purged.code).toBe(0);
    expect(await published()).toBe(0);
  }, 60_000);

  it('purge-expired deletes audit entries older than AUDIT_RETENTION, and none without it', async () => {
    const db = t.app.infra.dataSource;
    const entries = async () => ((await db.query('SELECT count(*)::int AS n FROM audit_events')) as { n: number }[])[0]!.n;
    await db.query(`UPDATE audit_events SET occurred_at = now() - interval '40 days'`);
    const rows = await entries();
    expect(rows).toBeGreaterThan(0);
    const kept = await cliInProcess(['purge-expired'], cliEnv);
    expect({ code: kept.code, audit_events: JSON.parse(kept.stdout).audit_events }).toEqual({ code: 0, audit_events: 0 });
    expect(await entries()).toBe(rows);
    const purged = await cliInProcess(['purge-expired'], { ...cliEnv, AUDIT_RETENTION: '30d' });
    expect({ code: purged.code, audit_events: JSON.parse(purged.stdout).audit_events }).toEqual({ code: 0, audit_events: rows });
    expect(await entries()).toBe(0);
  }, 60_000);
});

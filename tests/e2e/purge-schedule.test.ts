import { signUp, startTestApp, type TestApp } from '../support/app';

const DAY_MS = 86_400_000;

/**
 * A review of stop 63: nothing but the CLI ran `purge-expired`, so a deployment that did not schedule it kept sent
 * emails (recipient, subject, sealed bodies), ended sessions, spent tokens and processed requests for ever. The
 * service runs it itself every PURGE_INTERVAL; here 1 s, so the first run comes within a second of the start.
 */
describe('the service purges rows past retention on its own (PURGE_INTERVAL)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { PURGE_INTERVAL: '1s' } });
  }, 60_000);
  afterAll(async () => t?.stop());

  const sentTo = async (recipient: string): Promise<number> => {
    const rows: { n: string }[] = await t.app.infra.dataSource.query('SELECT count(*) AS n FROM email_outbox WHERE recipient = $1', [recipient]);
    return Number(rows[0]!.n);
  };

  it('deletes an email sent longer ago than OUTBOX_RETENTION (7 days) and keeps a recent one, without being asked', async () => {
    const old = 'purged-long-ago@example.com';
    const recent = 'purged-not-yet@example.com';
    await signUp(t, old);
    await signUp(t, recent);
    expect([await sentTo(old), await sentTo(recent)]).toEqual([1, 1]);
    await t.app.infra.dataSource.query('UPDATE email_outbox SET sent_at = $1 WHERE recipient = $2', [new Date(t.clock.now().getTime() - 8 * DAY_MS), old]);
    const deadline = Date.now() + 15_000;
    while ((await sentTo(old)) > 0) {
      if (Date.now() > deadline) throw new Error('the old email was not purged within 15 s');
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(await sentTo(recent)).toBe(1);
  }, 60_000);

  it('a purge run by hand answers its counts; the schedule stops with the service', async () => {
    await expect(t.app.infra.purges.runOnce()).resolves.toMatchObject({ sentEmails: 0, auditEvents: 0 });
  });
});

import { randomBytes } from 'node:crypto';
import { SEALED } from '@application/ports/secret-box';
import type { EmailMessage, Mailer } from '@application/ports/mailer';
import { EmailOutboxSender, type EmailSenderSettings } from '@infrastructure/email/email-outbox-sender';
import { InMemoryDatabase } from '@infrastructure/persistence/memory/in-memory-database';
import { InMemoryEmailOutbox, InMemoryEmailQueue } from '@infrastructure/persistence/memory/in-memory-email-outbox';
import { AesGcmSecretBox } from '@infrastructure/security/crypto/aes-gcm-secret-box';
import { ManualClock } from '@infrastructure/time/system-clock';

const SECRET_LINK = 'https://app.example.com/reset-password?token=SECRET-TOKEN-123';
const SETTINGS: EmailSenderSettings = {
  batchSize: 2,
  pollIntervalMs: 60_000,
  leaseSeconds: 300,
  baseRetrySeconds: 10,
  maxRetrySeconds: 3600,
  maxAttempts: 4,
  maxAgeSeconds: 86_400,
  sendTimeoutSeconds: 90,
  stopGraceSeconds: 10,
};

/** An SMTP stand-in that can be down, and can hold a message "on the wire" until released. */
class ControlledMailer implements Mailer {
  readonly sent: EmailMessage[] = [];
  /** Every call to send, delivered or not. */
  readonly tried: string[] = [];
  down = false;
  /** The relay is up but answers RCPT TO with a temporary refusal (about this message: it counts toward maxAttempts). */
  mailboxBusy = false;
  hold: Promise<void> | null = null;

  async send(message: EmailMessage): Promise<void> {
    this.tried.push(message.to);
    if (this.hold) await this.hold;
    if (this.down) throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:2525'), { code: 'ESOCKET' });
    if (this.mailboxBusy) throw Object.assign(new Error('450 4.2.1 mailbox busy'), { code: 'EENVELOPE', command: 'RCPT TO', responseCode: 450 });
    this.sent.push(message);
  }
}

function setup() {
  const db = new InMemoryDatabase();
  const clock = new ManualClock(new Date('2026-01-01T00:00:00Z'));
  const box = new AesGcmSecretBox(randomBytes(32));
  const mailer = new ControlledMailer();
  const logs: string[] = [];
  const log = (fields: Record<string, unknown>, message: string) => void logs.push(JSON.stringify({ fields, message }));
  const sender = new EmailOutboxSender(new InMemoryEmailQueue(db), mailer, box, clock, { info: log, warn: log, error: log }, SETTINGS);
  const outbox = new InMemoryEmailOutbox(db, { secretBox: box, clock });
  const enqueue = (to: string) => outbox.enqueue({ to, subject: 'Reset your password', text: `Link: ${SECRET_LINK}\n`, html: `<a href="${SECRET_LINK}">x</a>` });
  const rows = () => [...db.tables.emails.values()];
  return { db, clock, box, mailer, logs, sender, enqueue, rows, queue: new InMemoryEmailQueue(db) };
}

describe('EmailOutboxSender', () => {
  it('stores the bodies sealed and delivers them opened, exactly once', async () => {
    const t = setup();
    await t.enqueue('a@example.com');
    expect(JSON.stringify(t.rows())).not.toContain('SECRET-TOKEN-123');
    expect(t.box.open(t.rows()[0]!.sealedText!, SEALED.emailBody(t.rows()[0]!.id, 'text'))).toContain(SECRET_LINK);
    await t.sender.drain();
    await t.sender.drain();
    expect(t.mailer.sent.map((m) => [m.to, m.text])).toEqual([['a@example.com', `Link: ${SECRET_LINK}\n`]]);
    // Sent: its sealed links are dropped (an outside review, 2026-12-08: kept until the purge, a week later).
    expect(t.rows()[0]).toMatchObject({ attempts: 1, sentAt: t.clock.now(), lastError: null, lockedUntil: null, sealedText: null, sealedHtml: null });
  });

  it('keeps failed emails queued with a backoff, logs without the body, and delivers every one when the server is back', async () => {
    const t = setup();
    t.mailer.down = true;
    for (const to of ['a@example.com', 'b@example.com', 'c@example.com']) await t.enqueue(to);
    await t.sender.drain();
    expect(t.mailer.sent).toHaveLength(0);
    for (const row of t.rows()) {
      expect(row).toMatchObject({ sentAt: null, attempts: 1, lockedUntil: null, lastError: 'ESOCKET: connect ECONNREFUSED 127.0.0.1:2525' });
      const delay = (row.nextAttemptAt.getTime() - t.clock.now().getTime()) / 1000;
      expect(delay).toBeGreaterThanOrEqual(5);
      expect(delay).toBeLessThanOrEqual(10);
    }
    expect(t.logs.join('\n')).not.toMatch(/SECRET-TOKEN|a@example\.com/);

    await t.sender.drain(); // not due yet: nothing is retried early
    expect(t.rows().every((r) => r.attempts === 1)).toBe(true);
    t.mailer.down = false;
    t.clock.advance(10);
    await t.sender.drain();
    expect(t.mailer.sent.map((m) => m.to).sort()).toEqual(['a@example.com', 'b@example.com', 'c@example.com']);
    expect(t.rows().every((r) => r.sentAt !== null && r.attempts === 2)).toBe(true);
  });

  it('gives up after maxAttempts of failures about the message: the row is marked failed, kept, counted, never tried again, and logged without address or body', async () => {
    const t = setup();
    t.mailer.mailboxBusy = true;
    await t.enqueue('gone@example.com');
    for (let i = 0; i < SETTINGS.maxAttempts; i += 1) {
      await t.sender.drain();
      t.clock.advance(SETTINGS.maxRetrySeconds);
    }
    expect(t.mailer.tried).toHaveLength(SETTINGS.maxAttempts);
    expect(t.rows()[0]).toMatchObject({ sentAt: null, failedAt: expect.any(Date), attempts: SETTINGS.maxAttempts, lockedUntil: null, claimId: null });
    expect(t.rows()[0]!.lastError).toMatch(/mailbox busy/);
    await expect(t.queue.countByState()).resolves.toEqual({ queued: 0, failed: 1 });

    t.mailer.mailboxBusy = false;
    for (let i = 0; i < 3; i += 1) {
      t.clock.advance(SETTINGS.maxRetrySeconds);
      await t.sender.drain();
    }
    expect(t.mailer.tried).toHaveLength(SETTINGS.maxAttempts);
    expect(t.mailer.sent).toHaveLength(0);
    const givenUp = t.logs.filter((line) => line.includes('will not be sent'));
    expect(givenUp).toHaveLength(1);
    expect(JSON.parse(givenUp[0]!)).toMatchObject({ fields: { email_id: t.rows()[0]!.id, attempts: SETTINGS.maxAttempts } });
    expect(t.logs.join('\n')).not.toMatch(/SECRET-TOKEN|gone@example\.com/);
  });

  it('a relay outage does not use up the attempts: retried hourly past maxAttempts until maxAge, and sent once the relay is back (outside review, 2026-12-02)', async () => {
    const t = setup();
    t.mailer.down = true;
    await t.enqueue('patient@example.com');
    await t.enqueue('too-late@example.com');
    // Twice as many attempts as maxAttempts, about 13 h of outage: still queued, never given up.
    for (let i = 0; i < 2 * SETTINGS.maxAttempts; i += 1) {
      await t.sender.drain();
      t.clock.advance(SETTINGS.maxRetrySeconds);
    }
    expect(t.rows().map((r) => ({ failedAt: r.failedAt, attempts: r.attempts }))).toEqual([
      { failedAt: null, attempts: 2 * SETTINGS.maxAttempts },
      { failedAt: null, attempts: 2 * SETTINGS.maxAttempts },
    ]);
    await expect(t.queue.countByState()).resolves.toEqual({ queued: 2, failed: 0 });
    t.mailer.down = false;
    await t.sender.drain();
    expect(t.mailer.sent.map((m) => m.to).sort()).toEqual(['patient@example.com', 'too-late@example.com']);
    // The age limit still holds during an outage: a row past maxAge is given up.
    t.mailer.down = true;
    await t.enqueue('aged@example.com');
    for (let hours = 0; hours <= SETTINGS.maxAgeSeconds / 3600; hours += 1) {
      await t.sender.drain();
      t.clock.advance(3600);
    }
    await t.sender.drain();
    expect(t.rows().find((r) => r.recipient === 'aged@example.com')).toMatchObject({ sentAt: null, failedAt: expect.any(Date) });
  });

  it('the attempts a relay outage took do not count against the message: after the outage, a temporary refusal of it is retried until maxAttempts of its own (outside review, 2026-12-04)', async () => {
    const t = setup();
    t.mailer.down = true;
    await t.enqueue('after-outage@example.com');
    for (let i = 0; i < 2 * SETTINGS.maxAttempts; i += 1) {
      await t.sender.drain();
      t.clock.advance(SETTINGS.maxRetrySeconds);
    }
    // The relay is back, and says the mailbox is busy: about the message, the first such refusal of it.
    t.mailer.down = false;
    t.mailer.mailboxBusy = true;
    await t.sender.drain();
    expect(t.rows()[0]).toMatchObject({ failedAt: null, messageFailures: 1, attempts: 2 * SETTINGS.maxAttempts + 1 });
    for (let i = 1; i < SETTINGS.maxAttempts - 1; i += 1) {
      t.clock.advance(SETTINGS.maxRetrySeconds);
      await t.sender.drain();
    }
    expect(t.rows()[0]).toMatchObject({ failedAt: null, messageFailures: SETTINGS.maxAttempts - 1 });
    // A relay failure between them changes nothing; the maxAttempts-th refusal of the message gives it up.
    t.mailer.down = true;
    t.clock.advance(SETTINGS.maxRetrySeconds);
    await t.sender.drain();
    expect(t.rows()[0]).toMatchObject({ failedAt: null, messageFailures: SETTINGS.maxAttempts - 1 });
    t.mailer.down = false;
    t.clock.advance(SETTINGS.maxRetrySeconds);
    await t.sender.drain();
    expect(t.rows()[0]).toMatchObject({ sentAt: null, failedAt: expect.any(Date), messageFailures: SETTINGS.maxAttempts });
    expect(t.mailer.sent).toHaveLength(0);
  });

  it('gives up on a row older than maxAge without trying it, even with the server back; younger rows are still sent', async () => {
    const t = setup();
    t.mailer.down = true;
    await t.enqueue('old@example.com');
    await t.sender.drain();
    t.clock.advance(SETTINGS.maxAgeSeconds);
    await t.enqueue('new@example.com');
    t.mailer.down = false;
    await t.sender.drain();
    expect(t.mailer.tried).toEqual(['old@example.com', 'new@example.com']);
    expect(t.rows().find((r) => r.recipient === 'old@example.com')).toMatchObject({ sentAt: null, failedAt: t.clock.now() });
    expect(t.rows().find((r) => r.recipient === 'new@example.com')).toMatchObject({ sentAt: t.clock.now(), failedAt: null });
    await expect(t.queue.countByState()).resolves.toEqual({ queued: 0, failed: 1 });
    t.clock.advance(SETTINGS.maxAgeSeconds);
    await t.sender.drain();
    expect(t.mailer.tried).toHaveLength(2);
  });

  it('gives up at a failure whose retry would come after maxAge, instead of waiting past it', async () => {
    const t = setup();
    t.mailer.down = true;
    await t.enqueue('late@example.com');
    t.clock.advance(SETTINGS.maxAgeSeconds - 1);
    await t.sender.drain();
    expect(t.mailer.tried).toHaveLength(1);
    expect(t.rows()[0]).toMatchObject({ attempts: 1, failedAt: t.clock.now() });
    expect(t.rows()[0]!.lastError).toMatch(/ECONNREFUSED/);
  });

  it('a failure marked by a stale claim changes nothing; a late delivery by it still counts as sent', async () => {
    const t = setup();
    await t.enqueue('a@example.com');
    const [stale] = await t.queue.claimDue(t.clock.now(), 10, new Date(t.clock.now().getTime() + 1000));
    t.clock.advance(2);
    const [current] = await t.queue.claimDue(t.clock.now(), 10, new Date(t.clock.now().getTime() + 300_000));
    await t.queue.markUndeliverable(stale!, 'stale', t.clock.now());
    expect(t.rows()[0]).toMatchObject({ failedAt: null, claimId: current!.claimId });
    await t.queue.markUndeliverable(current!, 'given up', t.clock.now());
    await expect(t.queue.countByState()).resolves.toEqual({ queued: 0, failed: 1 });
    await t.queue.markSent(stale!, t.clock.now());
    expect(t.rows()[0]).toMatchObject({ sentAt: t.clock.now(), failedAt: null });
    await expect(t.queue.countByState()).resolves.toEqual({ queued: 0, failed: 0 });
  });

  it('a claim is a lease: a crashed sender\'s rows come back when it ends, not before', async () => {
    const t = setup();
    await t.enqueue('a@example.com');
    const queue = new InMemoryEmailQueue(t.db);
    const lease = new Date(t.clock.now().getTime() + 300_000);
    expect(await queue.claimDue(t.clock.now(), 10, lease)).toHaveLength(1); // then the claimer "crashes"
    await t.sender.drain();
    expect(t.mailer.sent).toHaveLength(0);
    t.clock.advance(300);
    await t.sender.drain();
    expect(t.mailer.sent).toHaveLength(1);
    expect(t.rows()[0]!.attempts).toBe(2);
  });

  it('stop() lets the message on the wire finish and be marked sent, and starts nothing new', async () => {
    const t = setup();
    await t.enqueue('a@example.com');
    let release!: () => void;
    t.mailer.hold = new Promise((resolve) => (release = resolve));
    t.sender.start();
    await new Promise((resolve) => setImmediate(resolve));
    const stopped = t.sender.stop();
    await t.enqueue('b@example.com');
    t.sender.poke();
    release();
    await stopped;
    expect(t.mailer.sent.map((m) => m.to)).toEqual(['a@example.com']);
    expect(t.rows().find((r) => r.recipient === 'a@example.com')?.sentAt).not.toBeNull();
    expect(t.rows().find((r) => r.recipient === 'b@example.com')).toMatchObject({ sentAt: null, attempts: 0 });
  });

  it('stop() between two messages hands the batch\'s unstarted rows back: unleased, attempts as before, claimable at once', async () => {
    const t = setup();
    await t.enqueue('a@example.com');
    await t.enqueue('b@example.com');
    let release!: () => void;
    t.mailer.hold = new Promise((resolve) => (release = resolve));
    t.sender.start();
    await new Promise((resolve) => setImmediate(resolve));
    expect(t.mailer.tried).toEqual(['a@example.com']);
    const stopped = t.sender.stop();
    release();
    await stopped;
    expect(t.mailer.tried).toEqual(['a@example.com']);
    expect(t.rows().find((r) => r.recipient === 'b@example.com')).toMatchObject({ sentAt: null, attempts: 0, lockedUntil: null, claimId: null });
    const [again] = await t.queue.claimDue(t.clock.now(), 10, new Date(t.clock.now().getTime() + 300_000));
    expect(again).toMatchObject({ recipient: 'b@example.com', attempts: 1 });
  });

  it('re-leases the rows it still holds once half the lease is gone, so no other claimer takes them', async () => {
    const t = setup();
    await t.enqueue('a@example.com');
    await t.enqueue('b@example.com');
    let releaseA!: () => void;
    t.mailer.hold = new Promise((resolve) => (releaseA = resolve));
    const drained = t.sender.drain();
    await new Promise((resolve) => setImmediate(resolve));
    t.clock.advance(200); // a slow first message: 100 s of the 300-s lease left
    let releaseB!: () => void;
    t.mailer.hold = new Promise((resolve) => (releaseB = resolve));
    releaseA();
    for (let i = 0; i < 10 && t.mailer.tried.length < 2; i += 1) await new Promise((resolve) => setImmediate(resolve));
    expect(t.mailer.tried).toEqual(['a@example.com', 'b@example.com']);
    expect(t.rows().find((r) => r.recipient === 'b@example.com')?.lockedUntil).toEqual(new Date(t.clock.now().getTime() + 300_000));
    t.clock.advance(150); // past the first lease, inside the renewed one
    await expect(t.queue.claimDue(t.clock.now(), 10, new Date(t.clock.now().getTime() + 300_000))).resolves.toEqual([]);
    releaseB();
    await drained;
    expect(t.mailer.sent.map((m) => m.to)).toEqual(['a@example.com', 'b@example.com']);
  });

  it('never sends a row whose lease lapsed meanwhile (another claimer may hold it), and says so', async () => {
    const t = setup();
    await t.enqueue('a@example.com');
    await t.enqueue('b@example.com');
    let release!: () => void;
    t.mailer.hold = new Promise((resolve) => (release = resolve));
    const drained = t.sender.drain();
    await new Promise((resolve) => setImmediate(resolve));
    t.clock.advance(301);
    const other = (await t.queue.claimDue(t.clock.now(), 10, new Date(t.clock.now().getTime() + 300_000))).find((c) => c.recipient === 'b@example.com');
    expect(other).toBeDefined();
    release();
    await drained;
    expect(t.mailer.tried).toEqual(['a@example.com']);
    expect(t.rows().find((r) => r.recipient === 'b@example.com')).toMatchObject({ sentAt: null, claimId: other!.claimId });
    const lapsed = t.logs.find((line) => line.includes('lapsed'));
    expect(lapsed && JSON.parse(lapsed)).toMatchObject({ fields: { email_ids: [other!.id] } });
  });

  it('refuses a send deadline over a third of the lease', () => {
    const t = setup();
    const make = (sendTimeoutSeconds: number) => () => new EmailOutboxSender(t.queue, t.mailer, t.box, t.clock, { info: () => undefined, warn: () => undefined, error: () => undefined }, { ...SETTINGS, sendTimeoutSeconds });
    expect(make(101)).toThrow(/at most a third of the lease/);
    expect(make(0)).toThrow(/must be positive/);
    expect(make(100)).not.toThrow();
  });
});

describe('EmailOutboxSender.drain', () => {
  it('called while a round is under way, waits for it and for the follow-up round, then returns', async () => {
    const t = setup();
    await t.enqueue('a@example.com');
    let release!: () => void;
    t.mailer.hold = new Promise((resolve) => (release = resolve));
    t.sender.poke();
    await new Promise((resolve) => setImmediate(resolve));
    await t.enqueue('b@example.com');
    const drained = t.sender.drain();
    release();
    await drained;
    expect(t.mailer.sent.map((m) => m.to).sort()).toEqual(['a@example.com', 'b@example.com']);
  });
});

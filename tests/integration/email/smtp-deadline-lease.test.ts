import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { EmailOutboxSender, type EmailSenderSettings } from '@infrastructure/email/email-outbox-sender';
import type { QueuedEmailRow } from '@infrastructure/email/email-queue';
import { SmtpMailer } from '@infrastructure/email/smtp/smtp-mailer';
import { AesGcmSecretBox } from '@infrastructure/security/crypto/aes-gcm-secret-box';
import { SystemClock } from '@infrastructure/time/system-clock';
import { SQL_ADAPTERS, type Store } from '../../support/persistence';

/**
 * The email sender against misbehaving SMTP servers (the smtp-server package, real connections, the real
 * SmtpMailer): one that trickles `250-` continuation lines after DATA and never a final reply, and a slow one.
 * Each attempt has a deadline, the lease covers what a sender still holds (two senders on one database never send
 * a row twice), and stop() hands back the rows of its batch it has not started. Deadlines and leases are seconds
 * here (the sender's settings), minutes in the service.
 */
type Mode = { kind: 'normal' } | { kind: 'slow'; delayMs: number } | { kind: 'trickle'; everyMs: number };

class MisbehavingSmtpServer {
  mode: Mode = { kind: 'normal' };
  /** Envelope recipients of every message the server accepted (replied 250 to). */
  readonly delivered: string[] = [];
  /** Messages whose DATA the server has begun to take, accepted or not. */
  dataStarted = 0;
  /** Connections on which the server has written a trickled line, and how many of them the client has closed. */
  trickled = 0;
  trickledClosed = 0;
  port = 0;
  private readonly server: SMTPServer;

  constructor() {
    this.server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      closeTimeout: 200,
      onData: (stream, session, callback) => {
        this.dataStarted += 1;
        const mode = this.mode;
        const to = session.envelope.rcptTo.map((r) => r.address);
        stream.on('data', () => undefined);
        stream.on('end', () => {
          if (mode.kind === 'normal') return this.accept(to, callback);
          if (mode.kind === 'slow') return void setTimeout(() => this.accept(to, callback), mode.delayMs);
          // A reply that never ends: a continuation line now and then (each resets the client's idle timeout).
          const connection = [...this.server.connections].find((c) => c.session.id === session.id);
          if (!connection) throw new Error('no connection for the session');
          const socket = connection._socket;
          this.trickled += 1;
          const timer = setInterval(() => socket.writable && socket.write('250-thinking\r\n'), mode.everyMs);
          socket.write('250-thinking\r\n');
          socket.once('close', () => {
            clearInterval(timer);
            this.trickledClosed += 1;
          });
        });
      },
    });
  }

  private accept(to: string[], callback: () => void): void {
    this.delivered.push(...to);
    callback();
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.server.address() as AddressInfo).port;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  /** How many messages each of `recipients` was delivered. */
  countsFor(recipients: string[]): Record<string, number> {
    return Object.fromEntries(recipients.map((r) => [r, this.delivered.filter((d) => d === r).length]));
  }
}

/** Bounded polling, never a fixed sleep. */
async function eventually<T>(probe: () => Promise<T | undefined> | T | undefined, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** `promise`, or a clear failure once `ms` have passed (instead of the test's own timeout). */
function within<T>(ms: number, promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not done within ${ms} ms`)), ms)));
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

const BASE: EmailSenderSettings = {
  batchSize: 10,
  pollIntervalMs: 60_000,
  leaseSeconds: 30,
  baseRetrySeconds: 0.2,
  maxRetrySeconds: 1,
  maxAttempts: 5,
  maxAgeSeconds: 3600,
  sendTimeoutSeconds: 5,
  stopGraceSeconds: 10,
};

// One SQL adapter (the real server when selected, else PGlite): the lease statements are the same TypeORM code on
// both, and extendLease/release run on every adapter in the email-queue contract suite; this suite's time is the
// SMTP server's, on the serial part of `npm test`.
describe.each(SQL_ADAPTERS.slice(-1))('email sender against misbehaving SMTP servers, on $name', (adapter) => {
  const smtp = new MisbehavingSmtpServer();
  const box = new AesGcmSecretBox(randomBytes(32));
  const clock = new SystemClock();
  let store: Store;
  let mailer: SmtpMailer;
  const senders: EmailOutboxSender[] = [];
  const logs: { message: string; fields: Record<string, unknown> }[] = [];
  const log = (fields: Record<string, unknown>, message: string) => void logs.push({ fields, message });

  beforeAll(async () => {
    await smtp.start();
    store = await adapter.start({ secretBox: box, clock });
    mailer = new SmtpMailer({ url: `smtp://127.0.0.1:${smtp.port}`, from: 'Auth <auth@example.com>', rejectUnauthorized: true, requireTls: false });
  }, 60_000);
  afterEach(async () => {
    await Promise.all(senders.splice(0).map((s) => within(15_000, s.stop(), 'a sender to stop')));
    smtp.mode = { kind: 'normal' };
    logs.length = 0;
  });
  afterAll(async () => {
    mailer?.close();
    await store?.stop();
    await smtp.stop();
  });

  const sender = (settings: Partial<EmailSenderSettings> = {}) => {
    const s = new EmailOutboxSender(store.emailQueue, mailer, box, clock, { info: log, warn: log, error: log }, { ...BASE, ...settings });
    senders.push(s);
    return s;
  };
  const enqueue = async (recipients: string[]) => {
    for (const to of recipients) await store.uow.run((tx) => tx.emails.enqueue({ to, subject: 'Verify your email', text: 'link', html: '<a>link</a>' }));
  };
  const rowsFor = async (recipients: string[]): Promise<QueuedEmailRow[]> => (await store.emails()).filter((row) => recipients.includes(row.recipient));
  const recipients = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}@example.com`);

  it('a server that trickles its reply is cut at the send deadline: the connection is closed, the attempt fails (logged) and is retried', async () => {
    const [to] = recipients('trickle', 1) as [string];
    smtp.mode = { kind: 'trickle', everyMs: 100 };
    await enqueue([to]);
    const s = sender({ leaseSeconds: 3, sendTimeoutSeconds: 1 });
    const started = Date.now();
    await within(5_000, s.drain(), 'the attempt against a trickling server');
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(smtp.trickled).toBeGreaterThan(0);
    await eventually(() => (smtp.trickledClosed === smtp.trickled ? true : undefined), 'the client to close the trickling connection');
    const [failed] = await rowsFor([to]);
    expect(failed).toMatchObject({ sentAt: null, failedAt: null, attempts: 1, lockedUntil: null, claimId: null });
    expect(failed!.lastError).toMatch(/^ETIMEDOUT: not delivered within the 1 s send deadline/);
    expect(logs.find((l) => l.message.includes('queued for retry'))?.fields).toMatchObject({ email_id: failed!.id, err: failed!.lastError });

    smtp.mode = { kind: 'normal' };
    await eventually(async () => {
      await s.drain();
      return smtp.countsFor([to])[to]! > 0 ? true : undefined;
    }, 'the retry to be delivered');
    expect(smtp.countsFor([to])).toEqual({ [to]: 1 });
    expect((await rowsFor([to]))[0]).toMatchObject({ sentAt: expect.any(Date), attempts: 2, lastError: null });
  });

  it('two senders on one database with a slow server never deliver a row twice: the lease covers the whole batch', async () => {
    const all = recipients('slow', 12);
    smtp.mode = { kind: 'slow', delayMs: 350 };
    await enqueue(all);
    // One batch takes 12 × 350 ms, longer than the 3-s lease it was claimed under.
    const settings = { batchSize: 12, pollIntervalMs: 100, leaseSeconds: 3, sendTimeoutSeconds: 1 };
    const a = sender(settings);
    const b = sender(settings);
    a.start();
    b.start();
    await eventually(async () => ((await rowsFor(all)).every((row) => row.sentAt !== null) ? true : undefined), 'every row marked sent', 20_000);
    await Promise.all([a.stop(), b.stop()]);
    expect(smtp.countsFor(all)).toEqual(Object.fromEntries(all.map((to) => [to, 1])));
    expect((await rowsFor(all)).every((row) => row.attempts === 1)).toBe(true);
  });

  it('stop() mid-batch returns after the message on the wire; the rows not started are handed back and claimable at once', async () => {
    const all = recipients('stopping', 5);
    smtp.mode = { kind: 'slow', delayMs: 300 };
    await enqueue(all);
    const before = smtp.dataStarted;
    const a = sender({ batchSize: 5, leaseSeconds: 300 });
    a.start();
    await eventually(() => (smtp.dataStarted > before ? true : undefined), 'the first message on the wire');
    await within(3_000, a.stop(), 'stop() with a batch under way');
    const counts = smtp.countsFor(all);
    const sent = all.filter((to) => counts[to] === 1);
    expect(sent).toHaveLength(1);
    expect(all.filter((to) => counts[to] === 0)).toHaveLength(4);
    const left = (await rowsFor(all)).filter((row) => row.sentAt === null);
    expect(left.map((row) => row.recipient).sort()).toEqual(all.filter((to) => to !== sent[0]).sort());
    for (const row of left) expect(row).toMatchObject({ lockedUntil: null, claimId: null, attempts: 0, lastError: null });
    expect(logs.find((l) => l.message.includes('handed back'))?.fields).toEqual({ released: 4 });

    // Another instance (or the restart) sends them now, not when a 5-minute lease would have ended.
    await within(5_000, sender().drain(), 'another sender');
    expect(smtp.countsFor(all)).toEqual(Object.fromEntries(all.map((to) => [to, 1])));
  });

  it('stop() cuts a message still on the wire after the stop grace: shutdown stays bounded and the row is retried later', async () => {
    const [to] = recipients('shutdown', 1) as [string];
    smtp.mode = { kind: 'trickle', everyMs: 100 };
    await enqueue([to]);
    const before = smtp.trickled;
    const a = sender({ sendTimeoutSeconds: 5, leaseSeconds: 30, stopGraceSeconds: 0.5 });
    a.start();
    await eventually(() => (smtp.trickled > before ? true : undefined), 'the reply to start trickling');
    const started = Date.now();
    await within(3_000, a.stop(), 'stop() with a message stuck on the wire');
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
    const [row] = await rowsFor([to]);
    expect(row).toMatchObject({ sentAt: null, failedAt: null, attempts: 1, lockedUntil: null, claimId: null });
    expect(row!.lastError).toMatch(/^ETIMEDOUT: still sending 0.5 s after shutdown began/);
    await eventually(() => (smtp.trickledClosed === smtp.trickled ? true : undefined), 'the client to close the trickling connection');
  });
});

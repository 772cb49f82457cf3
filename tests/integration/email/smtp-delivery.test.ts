import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { TypeOrmEmailQueue } from '@infrastructure/persistence/typeorm/typeorm-email-outbox';
import { freePort } from '../../support/ports';
import { REAL_POSTGRES_SELECTED } from '../../support/servers';
import { PASSWORD, startTestApp, type Backend, type TestApp } from '../../support/app';

interface Received {
  to: string[];
  /** The message as received, quoted-printable soft breaks and escapes decoded. */
  message: string;
}

/** A real SMTP server (the smtp-server package) on 127.0.0.1 that the test can stop and start on the same port. */
class TestSmtpServer {
  readonly received: Received[] = [];
  /** Recipients refused permanently (550 at RCPT TO). */
  readonly refused = new Set<string>();
  /** Recipients refused temporarily (450 at RCPT TO: a failure about the message, counted toward EMAIL_MAX_ATTEMPTS). */
  readonly busy = new Set<string>();
  /** A reply to every DATA: the relay's own trouble (e.g. `451 4.3.0` with a full disk, `421` closing), or none. */
  dataReply: { code: number; message: string } | null = null;
  /** Every RCPT TO the server saw, accepted or not. */
  readonly rcpt: string[] = [];
  port = 0;
  private server: SMTPServer | null = null;

  async start(): Promise<void> {
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      onRcptTo: (address, _session, callback) => {
        this.rcpt.push(address.address);
        if (this.busy.has(address.address)) return callback(Object.assign(new Error('4.2.1 mailbox busy, try later'), { responseCode: 450 }));
        if (!this.refused.has(address.address)) return callback();
        return callback(Object.assign(new Error('5.1.1 <' + address.address + '>: no such user'), { responseCode: 550 }));
      },
      onData: (stream, session, callback) => {
        const reply = this.dataReply;
        if (reply) {
          stream.resume();
          stream.on('end', () => callback(Object.assign(new Error(reply.message), { responseCode: reply.code })));
          return;
        }
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => {
          this.received.push({ to: session.envelope.rcptTo.map((r) => r.address), message: decodeQuotedPrintable(Buffer.concat(chunks).toString('utf8')) });
          callback();
        });
      },
    });
    // First start: a port of this worker's range (tests/support/ports.ts), which no other suite takes while stopped.
    if (this.port === 0) this.port = await freePort();
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.server.address() as AddressInfo).port;
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  inbox(to: string): Received[] {
    return this.received.filter((r) => r.to.includes(to));
  }
}

function decodeQuotedPrintable(raw: string): string {
  return raw.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/** Bounded polling, never a fixed sleep. */
async function eventually<T>(probe: () => Promise<T | undefined> | T | undefined, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const LINK = (page: string) => new RegExp(`https://app\\.example\\.com/${page}\\?token=([A-Za-z0-9_-]{43})`);

describe.each<Backend>(REAL_POSTGRES_SELECTED ? ['pglite', 'postgres'] : ['pglite'])('SMTP delivery through the durable outbox on %s', (backend) => {
  const smtp = new TestSmtpServer();
  let t: TestApp | undefined;

  beforeAll(async () => {
    await smtp.start();
    t = await startTestApp({
      backend,
      configuredMailer: true,
      env: { SMTP_URL: `smtp://127.0.0.1:${smtp.port}`, MAIL_FROM: 'Auth <auth@example.com>', EMAIL_MAX_ATTEMPTS: '3', EMAIL_MAX_AGE: '1h' },
    });
  }, 60_000);
  afterAll(async () => {
    await t?.stop();
    await smtp.stop();
  });

  const app = () => {
    if (!t) throw new Error('app not started');
    return t;
  };
  /** The `nth` message to `to` once it has arrived, and the token of its link to `page`. */
  async function mailed(to: string, nth: number, page: string): Promise<{ message: string; token: string }> {
    const { message } = await eventually(() => smtp.inbox(to)[nth - 1], `email #${nth} to ${to}`);
    const token = LINK(page).exec(message)?.[1];
    if (!token) throw new Error(`no ${page} link in email #${nth} to ${to}`);
    return { message, token };
  }

  it('delivers the verify, reset and notice emails with working links built from APP_PUBLIC_URL', async () => {
    const { http } = app();
    await http.post('/api/v1/auth/register').send({ email: 'smtp-alice@example.com', password: PASSWORD }).expect(202);
    const verify = await mailed('smtp-alice@example.com', 1, 'verify-email');
    expect(verify.message).toMatch(/^From: Auth <auth@example\.com>/m);
    expect(verify.message).toMatch(/^Content-Type: multipart\/alternative/m);
    await http.post('/api/v1/auth/verify').send({ token: verify.token }).expect(200);

    await http.post('/api/v1/auth/password/reset').send({ email: 'smtp-alice@example.com' }).expect(202);
    const reset = await mailed('smtp-alice@example.com', 2, 'reset-password');
    await http.post('/api/v1/auth/password/confirm').send({ token: reset.token, new_password: 'a new smtp passphrase' }).expect(200);
    const notice = await eventually(() => smtp.inbox('smtp-alice@example.com')[2], 'the password-changed notice');
    expect(notice.message).toMatch(/^Subject: Your password was changed/m);
    await http.post('/api/v1/auth/login').send({ email: 'smtp-alice@example.com', password: 'a new smtp passphrase' }).expect(200);
  });

  it('with the SMTP server down emails stay queued; when it is back they are all delivered, once', async () => {
    const { http, clock } = app();
    const ds = app().app.infra.dataSource;
    await smtp.stop();
    const before = smtp.received.length;
    await http.post('/api/v1/auth/register').send({ email: 'smtp-bob@example.com', password: PASSWORD }).expect(202);
    await http.post('/api/v1/auth/password/reset').send({ email: 'smtp-alice@example.com' }).expect(202);
    await http.post('/api/v1/auth/register').send({ email: 'smtp-carol@example.com', password: PASSWORD }).expect(202);

    const failed = await eventually(async () => {
      const rows: { recipient: string; attempts: number; last_error: string | null; sent_at: Date | null; sealed_text: string }[] =
        await ds.query('SELECT recipient, attempts, last_error, sent_at, sealed_text FROM email_outbox WHERE sent_at IS NULL');
      return rows.length === 3 && rows.every((r) => r.attempts >= 1 && r.last_error !== null) ? rows : undefined;
    }, 'three failed attempts');
    expect(failed.map((r) => r.recipient).sort()).toEqual(['smtp-alice@example.com', 'smtp-bob@example.com', 'smtp-carol@example.com']);
    expect(failed[0]!.last_error).toMatch(/ECONNREFUSED/);
    expect(JSON.stringify(failed)).not.toMatch(/token=/);
    expect(smtp.received.length).toBe(before);

    await smtp.start(); // same port
    clock.advance(60); // past the first retry delay (5-10 s)
    app().app.infra.email.sender.poke();
    const bob = await mailed('smtp-bob@example.com', 1, 'verify-email');
    const reset = await mailed('smtp-alice@example.com', 4, 'reset-password');
    await mailed('smtp-carol@example.com', 1, 'verify-email');
    await eventually(async () => {
      const rows = await ds.query('SELECT count(*)::int AS n FROM email_outbox WHERE sent_at IS NULL');
      return rows[0].n === 0 ? true : undefined;
    }, 'every row marked sent');
    expect(smtp.received.length).toBe(before + 3);

    await http.post('/api/v1/auth/verify').send({ token: bob.token }).expect(200);
    await http.post('/api/v1/auth/password/confirm').send({ token: reset.token, new_password: 'the third passphrase' }).expect(200);
  });

  interface OutboxRow {
    attempts: number;
    last_error: string | null;
    sent_at: Date | null;
    failed_at: Date | null;
  }
  const row = async (recipient: string): Promise<OutboxRow> => {
    const rows: OutboxRow[] = await app().app.infra.dataSource.query(
      'SELECT attempts, last_error, sent_at, failed_at FROM email_outbox WHERE recipient = $1',
      [recipient],
    );
    if (rows.length !== 1) throw new Error(`expected one row to ${recipient}, got ${rows.length}`);
    return rows[0]!;
  };
  /** Lets every retry become due (the backoff is 5-10 s, then 10-20 s) and runs the sender until nothing due is left. */
  const nextRound = async (seconds = 30) => {
    app().clock.advance(seconds);
    await app().app.infra.email.sender.drain();
  };
  const counts = () => new TypeOrmEmailQueue(app().app.infra.dataSource).countByState();
  /** Registers and lets the account-request worker queue the verification email. */
  const register = async (email: string) => {
    await app().http.post('/api/v1/auth/register').send({ email, password: PASSWORD }).expect(202);
    await app().app.infra.accountRequests.drain();
  };

  it('a recipient refused permanently (550) is marked failed after that one attempt and never tried again', async () => {
    await app().app.infra.email.sender.drain(); // the previous test's last notice
    const before = await counts();
    smtp.refused.add('smtp-nobody@example.com');
    await register('smtp-nobody@example.com');
    await app().app.infra.email.sender.drain();
    const failed = await row('smtp-nobody@example.com');
    expect(failed).toMatchObject({ attempts: 1, sent_at: null, failed_at: expect.any(Date), last_error: expect.stringMatching(/550/) });
    expect(smtp.rcpt.filter((a) => a === 'smtp-nobody@example.com')).toHaveLength(1);
    await expect(counts()).resolves.toEqual({ queued: before.queued, failed: before.failed + 1 });

    smtp.refused.delete('smtp-nobody@example.com');
    for (let i = 0; i < 3; i += 1) await nextRound(600);
    expect(smtp.rcpt.filter((a) => a === 'smtp-nobody@example.com')).toHaveLength(1);
    expect(smtp.inbox('smtp-nobody@example.com')).toHaveLength(0);
    await expect(row('smtp-nobody@example.com')).resolves.toMatchObject({ attempts: 1, sent_at: null });
  });

  it('a recipient refused temporarily (450) EMAIL_MAX_ATTEMPTS times is marked failed: it is not sent when the refusals stop', async () => {
    smtp.busy.add('smtp-dave@example.com');
    try {
      await register('smtp-dave@example.com');
      await app().app.infra.email.sender.drain();
      await nextRound();
      await nextRound();
      await expect(row('smtp-dave@example.com')).resolves.toMatchObject({ attempts: 3, failed_at: expect.any(Date), last_error: expect.stringMatching(/mailbox busy/) });
    } finally {
      smtp.busy.delete('smtp-dave@example.com');
    }
    const seen = smtp.rcpt.filter((to) => to === 'smtp-dave@example.com').length;
    await nextRound(600);
    expect(smtp.rcpt.filter((to) => to === 'smtp-dave@example.com')).toHaveLength(seen);
    await expect(row('smtp-dave@example.com')).resolves.toMatchObject({ attempts: 3, sent_at: null });
  });

  it('with the server down, EMAIL_MAX_ATTEMPTS attempts and more leave the row queued (an outage is not the message\'s fault): sent once the server is back', async () => {
    await smtp.stop();
    try {
      await register('smtp-dora@example.com');
      await app().app.infra.email.sender.drain();
      for (let round = 0; round < 4; round += 1) await nextRound(200); // each attempt due (the 5th waits at most 160 s)
      await expect(row('smtp-dora@example.com')).resolves.toMatchObject({ attempts: 5, failed_at: null, last_error: expect.stringMatching(/ECONNREFUSED/) });
    } finally {
      await smtp.start();
    }
    await nextRound(600);
    await expect(row('smtp-dora@example.com')).resolves.toMatchObject({ attempts: 6, sent_at: expect.any(Date), failed_at: null });
    expect(smtp.inbox('smtp-dora@example.com')).toHaveLength(1);
  });

  it.each([
    [451, '4.3.0 Error: queue file write error'],
    [452, '4.3.1 Insufficient system storage'],
    [421, '4.3.2 Service shutting down, closing transmission channel'],
  ])('a relay answering DATA with %i %s (its own trouble) EMAIL_MAX_ATTEMPTS times and more leaves the row queued: sent once it recovers', async (code, message) => {
    smtp.dataReply = { code, message };
    const to = `smtp-relay-${code}@example.com`;
    try {
      await register(to);
      await app().app.infra.email.sender.drain();
      for (let round = 0; round < 4; round += 1) await nextRound(200);
      await expect(row(to)).resolves.toMatchObject({ attempts: 5, failed_at: null, sent_at: null, last_error: expect.stringContaining(String(code)) });
    } finally {
      smtp.dataReply = null;
    }
    await nextRound(600);
    await expect(row(to)).resolves.toMatchObject({ attempts: 6, sent_at: expect.any(Date), failed_at: null });
    expect(smtp.inbox(to)).toHaveLength(1);
  });

  it('a row older than EMAIL_MAX_AGE is marked failed without being sent, even with the server back', async () => {
    await smtp.stop();
    try {
      await register('smtp-erin@example.com');
      await app().app.infra.email.sender.drain();
      await expect(row('smtp-erin@example.com')).resolves.toMatchObject({ attempts: 1, failed_at: null });
    } finally {
      await smtp.start();
    }
    await nextRound(3600);
    const failed = await row('smtp-erin@example.com');
    expect(failed).toMatchObject({ sent_at: null, failed_at: expect.any(Date), last_error: expect.stringMatching(/not sent within 3600 s/) });
    expect(smtp.rcpt).not.toContain('smtp-erin@example.com');
    await nextRound(600);
    expect(smtp.rcpt).not.toContain('smtp-erin@example.com');
  });
});

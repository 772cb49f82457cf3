import { randomBytes } from 'node:crypto';
import type { AddressInfo, Socket } from 'node:net';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { EmailOutboxSender, type EmailSenderSettings } from '@infrastructure/email/email-outbox-sender';
import { SmtpMailer } from '@infrastructure/email/smtp/smtp-mailer';
import { InMemoryDatabase } from '@infrastructure/persistence/memory/in-memory-database';
import { InMemoryEmailOutbox, InMemoryEmailQueue } from '@infrastructure/persistence/memory/in-memory-email-outbox';
import { AesGcmSecretBox } from '@infrastructure/security/crypto/aes-gcm-secret-box';
import { ManualClock } from '@infrastructure/time/system-clock';

/**
 * The email outbox delivering through the real SmtpMailer to a real SMTP server (smtp-server) whose replies the
 * test sets per recipient: which failures end a row at once, which are retried.
 */
const SETTINGS: EmailSenderSettings = {
  batchSize: 10,
  pollIntervalMs: 60_000,
  leaseSeconds: 300,
  baseRetrySeconds: 10,
  maxRetrySeconds: 3600,
  maxAttempts: 4,
  maxAgeSeconds: 86_400,
  sendTimeoutSeconds: 90,
  stopGraceSeconds: 10,
};

interface Reply {
  code: number;
  text: string;
}

const reject = ({ code, text }: Reply): Error => Object.assign(new Error(text), { responseCode: code });

/** A real SMTP server on 127.0.0.1 (port 0) that answers MAIL FROM, RCPT TO and the end of DATA as told. */
class ScriptedSmtpServer {
  /** Reply to RCPT TO for these recipients. */
  readonly rcptReplies = new Map<string, Reply>();
  /** Reply to the end of DATA for messages to these recipients. */
  readonly dataReplies = new Map<string, Reply>();
  /** Reply to every MAIL FROM, when set. */
  mailFromReply: Reply | null = null;
  /** Every RCPT TO address the server was sent, accepted or not. */
  readonly rcpt: string[] = [];
  /** The envelope recipients of every message the server accepted. */
  readonly delivered: string[] = [];
  /** Recipients whose next message the server takes whole, then drops the connection instead of replying to. */
  readonly dropAfterData = new Set<string>();
  /** The Message-ID header of every message received in full (dropped or accepted), by recipient. */
  readonly messageIds: { to: string; messageId: string }[] = [];
  port = 0;
  private readonly server: SMTPServer;
  private readonly sockets = new Map<number, Socket>();

  constructor(options: SMTPServerOptions = {}) {
    this.server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      onMailFrom: (_address, _session, callback) => callback(this.mailFromReply ? reject(this.mailFromReply) : null),
      onRcptTo: (address, _session, callback) => {
        this.rcpt.push(address.address);
        const reply = this.rcptReplies.get(address.address);
        callback(reply ? reject(reply) : null);
      },
      onData: (stream, session, callback) => {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => {
          const to = session.envelope.rcptTo.map((r) => r.address);
          const messageId = /^Message-ID: *(.*)$/im.exec(Buffer.concat(chunks).toString('utf8'))?.[1]?.trim() ?? '';
          this.messageIds.push(...to.map((address) => ({ to: address, messageId })));
          const drop = to.find((address) => this.dropAfterData.delete(address));
          if (drop !== undefined) return void this.sockets.get(session.remotePort)?.destroy(); // no reply at all
          const reply = to.map((address) => this.dataReplies.get(address)).find((r) => r !== undefined);
          if (reply) return callback(reject(reply));
          this.delivered.push(...to);
          return callback();
        });
      },
      ...options,
    });
  }

  async start(): Promise<void> {
    // The client sockets by their port, to drop one in the middle of a session.
    this.server.server.on('connection', (socket: Socket) => this.sockets.set(socket.remotePort!, socket));
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.server.address() as AddressInfo).port;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** The outbox, its sender and the real SmtpMailer pointed at `url`. */
function outboxTo(url: string) {
  const db = new InMemoryDatabase();
  const clock = new ManualClock(new Date('2026-01-01T00:00:00Z'));
  const box = new AesGcmSecretBox(randomBytes(32));
  const mailer = new SmtpMailer({ url, from: 'Auth <auth@example.com>', rejectUnauthorized: true, requireTls: false });
  const logs: { fields: Record<string, unknown>; message: string }[] = [];
  const log = (fields: Record<string, unknown>, message: string) => void logs.push({ fields, message });
  const queue = new InMemoryEmailQueue(db);
  const sender = new EmailOutboxSender(queue, mailer, box, clock, { info: log, warn: log, error: log }, SETTINGS);
  const outbox = new InMemoryEmailOutbox(db, { secretBox: box, clock });
  return {
    clock,
    logs,
    queue,
    sender,
    mailer,
    enqueue: (to: string) => outbox.enqueue({ to, subject: 'Verify your email', text: 'plain body', html: '<p>html body</p>' }),
    row: (to: string) => [...db.tables.emails.values()].find((r) => r.recipient === to)!,
    /** Lets every retry become due and runs the sender until nothing due is left. */
    nextRound: async () => {
      clock.advance(SETTINGS.maxRetrySeconds);
      await sender.drain();
    },
  };
}

/**
 * Starts `smtp` before the enclosing describe's tests with an outbox sending to it (`userinfo`: `user:pass@` for
 * the URL), and stops both after them. The outbox's members are filled in when the server is up.
 */
function outboxOn(smtp: ScriptedSmtpServer, userinfo = ''): ReturnType<typeof outboxTo> {
  const t = {} as ReturnType<typeof outboxTo>;
  beforeAll(async () => {
    await smtp.start();
    Object.assign(t, outboxTo(`smtp://${userinfo}127.0.0.1:${smtp.port}`));
  });
  afterAll(async () => {
    t.mailer.close();
    await smtp.stop();
  });
  return t;
}

describe('the email outbox against a real SMTP server: permanent rejections end a row, the rest is retried', () => {
  const smtp = new ScriptedSmtpServer();
  const t = outboxOn(smtp);

  const givenUp = (id: string) => t.logs.filter((l) => l.message.includes('will not be sent') && l.fields['email_id'] === id);

  it.each([
    ['550 5.1.1 to RCPT TO (no such user)', 'rcpt', { code: 550, text: '5.1.1 Recipient address rejected: User unknown' }],
    ['554 5.7.1 to DATA (message refused)', 'data', { code: 554, text: '5.7.1 Message rejected as spam' }],
  ] as const)('%s marks the row failed after that one attempt, warns once, counts it failed, never tries again', async (_name, stage, reply) => {
    const to = `permanent-${stage}@example.com`;
    (stage === 'rcpt' ? smtp.rcptReplies : smtp.dataReplies).set(to, reply);
    const before = await t.queue.countByState();
    await t.enqueue(to);
    await t.sender.drain();

    const row = t.row(to);
    expect(row).toMatchObject({ attempts: 1, sentAt: null, failedAt: t.clock.now(), lockedUntil: null });
    expect(row.lastError).toContain(String(reply.code));
    expect(givenUp(row.id)).toHaveLength(1);
    expect(givenUp(row.id)[0]!.fields).toMatchObject({ attempts: 1, err: row.lastError });
    await expect(t.queue.countByState()).resolves.toEqual({ queued: before.queued, failed: before.failed + 1 });

    (stage === 'rcpt' ? smtp.rcptReplies : smtp.dataReplies).delete(to);
    await t.nextRound();
    await t.nextRound();
    expect(smtp.rcpt.filter((a) => a === to)).toHaveLength(1);
    expect(smtp.delivered).not.toContain(to);
    expect(givenUp(row.id)).toHaveLength(1);
  });

  it.each([
    ['450 4.2.1 to RCPT TO (mailbox busy)', 'rcpt', { code: 450, text: '4.2.1 Mailbox temporarily unavailable' }],
    ['452 4.3.1 to DATA (insufficient storage)', 'data', { code: 452, text: '4.3.1 Insufficient system storage' }],
    ['552 5.2.2 to RCPT TO (mailbox full: temporary, RFC 5321 4.5.3.1.10)', 'rcpt', { code: 552, text: '5.2.2 Mailbox full' }],
    ['550 5.2.2 to RCPT TO (mailbox full, as some servers answer it)', 'rcpt', { code: 550, text: '5.2.2 Mailbox full' }],
  ] as const)('%s is retried, and delivered once the server accepts', async (_name, stage, reply) => {
    const to = `temporary-${stage}-${reply.code}@example.com`;
    (stage === 'rcpt' ? smtp.rcptReplies : smtp.dataReplies).set(to, reply);
    await t.enqueue(to);
    await t.sender.drain();
    await t.nextRound();
    expect(t.row(to)).toMatchObject({ attempts: 2, sentAt: null, failedAt: null });
    expect(t.row(to).lastError).toContain(String(reply.code));

    (stage === 'rcpt' ? smtp.rcptReplies : smtp.dataReplies).delete(to);
    await t.nextRound();
    expect(t.row(to)).toMatchObject({ attempts: 3, sentAt: t.clock.now(), failedAt: null });
    expect(smtp.delivered.filter((a) => a === to)).toHaveLength(1);
  });

  it('a 5xx to MAIL FROM (the relay refuses MAIL_FROM: the operator\'s settings, not the message) is retried', async () => {
    smtp.mailFromReply = { code: 550, text: '5.7.1 Sender address rejected: not owned by user' };
    try {
      await t.enqueue('mailfrom@example.com');
      await t.sender.drain();
      await t.nextRound();
      expect(t.row('mailfrom@example.com')).toMatchObject({ attempts: 2, sentAt: null, failedAt: null });
      expect(t.row('mailfrom@example.com').lastError).toMatch(/550/);
    } finally {
      smtp.mailFromReply = null;
    }
    await t.nextRound();
    expect(t.row('mailfrom@example.com')).toMatchObject({ attempts: 3, sentAt: t.clock.now() });
  });

  // Postfix (smtpd_delay_reject = yes, its default) answers its sender and relay checks at RCPT TO: the operator's
  // settings are wrong, not the message, as with a 5xx to MAIL FROM or a 535 to AUTH.
  it.each([
    ['553 5.7.1 Sender address rejected (MAIL_FROM not the relay user\'s)', { code: 553, text: '5.7.1 <auth@example.com>: Sender address rejected: not owned by user relay-user' }],
    ['554 5.7.1 Relay access denied (no relay rights)', { code: 554, text: '5.7.1 <relay-denied@example.com>: Relay access denied' }],
    ['550 Relaying denied (no enhanced status code)', { code: 550, text: 'Relaying denied. Proper authentication required.' }],
    // The temporary forms (Postfix's default defer_unauth_destination, or soft_bounce = yes): until a review of stop 50
    // each counted toward EMAIL_MAX_ATTEMPTS, and the row failed for good.
    ['454 4.7.1 Relay access denied (deferred)', { code: 454, text: '4.7.1 <relay-deferred@example.com>: Relay access denied' }],
    ['450 4.7.1 Sender address rejected (soft bounce)', { code: 450, text: '4.7.1 <auth@example.com>: Sender address rejected: not owned by user relay-user' }],
  ] as const)('%s to RCPT TO is retried past EMAIL_MAX_ATTEMPTS, not counted against the message, and delivered once the server accepts', async (name, reply) => {
    const to = `relay-${name.slice(0, 3)}-${reply.text.length}@example.com`;
    smtp.rcptReplies.set(to, reply);
    await t.enqueue(to);
    await t.sender.drain();
    for (let round = 1; round < SETTINGS.maxAttempts + 1; round++) await t.nextRound();
    const row = t.row(to);
    expect(row).toMatchObject({ attempts: SETTINGS.maxAttempts + 1, messageFailures: 0, sentAt: null, failedAt: null });
    expect(row.lastError).toContain(String(reply.code));
    expect(t.logs.filter((l) => l.message.includes('will not be sent') && l.fields['email_id'] === row.id)).toHaveLength(0);

    smtp.rcptReplies.delete(to); // the operator fixed MAIL_FROM or the relay rights
    await t.nextRound();
    expect(t.row(to)).toMatchObject({ attempts: SETTINGS.maxAttempts + 2, sentAt: t.clock.now(), failedAt: null });
    expect(smtp.delivered.filter((a) => a === to)).toHaveLength(1);
  });

  // What the recipient's own refusal looks like stays permanent, with or without an enhanced status code: only a
  // 5.7.x, or a text that names the sender or relaying, is the relay's.
  it.each([
    ['550 5.1.1 in Postfix\'s words', { code: 550, text: '5.1.1 <unknown-user@example.com>: Recipient address rejected: User unknown in local recipient table' }],
    ['553 5.1.3 (bad address syntax)', { code: 553, text: '5.1.3 Bad recipient address syntax' }],
    ['550 with no enhanced status code', { code: 550, text: 'No such user here' }],
  ] as const)('%s to RCPT TO still marks the row failed after that one attempt', async (name, reply) => {
    const to = `recipient-${name.slice(0, 3)}-${reply.text.length}@example.com`;
    smtp.rcptReplies.set(to, reply);
    await t.enqueue(to);
    await t.sender.drain();
    expect(t.row(to)).toMatchObject({ attempts: 1, messageFailures: 1, sentAt: null, failedAt: t.clock.now() });

    smtp.rcptReplies.delete(to);
    await t.nextRound();
    expect(smtp.rcpt.filter((a) => a === to)).toHaveLength(1);
    expect(smtp.delivered).not.toContain(to);
  });
});

describe('the email outbox against a real SMTP server that drops the connection after DATA, before its reply', () => {
  const smtp = new ScriptedSmtpServer();
  const t = outboxOn(smtp);

  it('sends the message again, with the same Message-ID (<row id@MAIL_FROM domain>) on every copy', async () => {
    smtp.dropAfterData.add('dup@example.com');
    await t.enqueue('dup@example.com');
    await t.enqueue('other@example.com');
    await t.sender.drain();
    const row = t.row('dup@example.com');
    expect(row).toMatchObject({ attempts: 1, sentAt: null, failedAt: null });
    expect(row.lastError).toMatch(/^ECONNECTION: /);
    await t.nextRound();
    expect(t.row('dup@example.com')).toMatchObject({ attempts: 2, sentAt: t.clock.now() });

    const copies = smtp.messageIds.filter((m) => m.to === 'dup@example.com').map((m) => m.messageId);
    expect(copies).toEqual([`<${row.id}@example.com>`, `<${row.id}@example.com>`]);
    expect(smtp.delivered.filter((a) => a === 'dup@example.com')).toHaveLength(1);
    // Another row has its own.
    expect(smtp.messageIds.filter((m) => m.to === 'other@example.com').map((m) => m.messageId)).toEqual([`<${t.row('other@example.com').id}@example.com>`]);
  });
});

describe('the email outbox keeps addresses out of last_error and the log', () => {
  const smtp = new ScriptedSmtpServer();
  const t = outboxOn(smtp);

  // Postfix-style replies that quote the recipient as the server got it, or name another address. (A quoted local
  // part is covered by describeFailure's unit test: smtp-server refuses its syntax with a 501 naming nothing.)
  it.each([
    ['r5@example.com', 'rcpt', { code: 550, text: '5.1.1 <r5@example.com>: Recipient address rejected: User unknown in virtual mailbox table' }],
    ['user7@bücher.example', 'rcpt', { code: 550, text: '5.1.1 <user7@xn--bcher-kva.example>: Recipient address rejected: User unknown' }],
    ['k9@example.com', 'rcpt', { code: 450, text: '4.2.0 <K9@Example.COM>: Recipient address rejected: Greylisted, see postmaster@example.net' }],
    ['r6@example.com', 'data', { code: 554, text: '5.7.1 <r6@example.com>: Recipient address rejected: message refused' }],
  ] as const)('%p refused with a reply naming addresses: the row and the log keep the reply, not the address', async (to, stage, reply) => {
    (stage === 'rcpt' ? smtp.rcptReplies : smtp.dataReplies).set(to, reply);
    await t.enqueue(to);
    await t.sender.drain();
    const row = t.row(to);
    const leaks = /@|r5|r6|user7|bücher|bcher|k9|postmaster/i;
    expect(row.lastError).toContain(`${reply.code} ${reply.text.slice(0, 5)} <[address]>: Recipient address rejected`);
    expect(row.lastError).not.toMatch(leaks);
    const lines = JSON.stringify(t.logs.filter((l) => l.fields['email_id'] === row.id));
    expect(lines).toContain('Recipient address rejected');
    expect(lines).not.toMatch(leaks);
  });
});

/**
 * A review of stop 50: a content filter refusing the message at the end of DATA quoting the link it blocked. The live
 * token went to last_error and the log, and whoever read either could use the link.
 */
describe('the email outbox keeps link tokens out of last_error and the log', () => {
  const smtp = new ScriptedSmtpServer();
  const t = outboxOn(smtp);
  const token = randomBytes(32).toString('base64url');

  it.each([
    ['blocked@example.com', { code: 554, text: `5.7.1 Message rejected: blocklisted URL https://app.example.com/verify-email?token=${token}` }],
    ['greylisted@example.com', { code: 451, text: `4.7.1 URL https://app.example.com/reset-password?token=${token} under review, try later` }],
  ] as const)('%p: the reply is kept, the token is not', async (to, reply) => {
    smtp.dataReplies.set(to, reply);
    await t.enqueue(to);
    await t.sender.drain();
    const row = t.row(to);
    expect(row.lastError).toContain(`${reply.code} ${reply.text.slice(0, 5)}`);
    expect(row.lastError).toContain('https://app.example.com/');
    expect(row.lastError).not.toContain(token.slice(0, 10));
    const lines = JSON.stringify(t.logs.filter((l) => l.fields['email_id'] === row.id));
    expect(lines).toContain(String(reply.code));
    expect(lines).not.toContain(token.slice(0, 10));
  });
});

describe('the email outbox against a real SMTP server that does not offer SMTPUTF8', () => {
  const smtp = new ScriptedSmtpServer({ hideSMTPUTF8: true });
  const t = outboxOn(smtp);

  it('marks a row to a non-ASCII local part failed at once, with a last_error that says why and names no address', async () => {
    await t.enqueue('δοκιμή@example.com');
    await t.enqueue('ascii@bücher.example');
    await t.sender.drain();
    const row = t.row('δοκιμή@example.com');
    expect(row).toMatchObject({ attempts: 1, sentAt: null, failedAt: t.clock.now() });
    expect(row.lastError).toMatch(/needs SMTPUTF8, and the SMTP server does not offer it/);
    expect(row.lastError).not.toMatch(/@|δοκιμή/);
    expect(smtp.rcpt).toEqual(['ascii@bücher.example']);
    expect(t.row('ascii@bücher.example')).toMatchObject({ attempts: 1, sentAt: t.clock.now() });
  });
});

describe('the email outbox against a real SMTP server that refuses our credentials (535)', () => {
  const smtp = new ScriptedSmtpServer({
    authOptional: false,
    allowInsecureAuth: true,
    disabledCommands: ['STARTTLS'],
    onAuth: (_auth, _session, callback) => callback(new Error('Invalid username or password')),
  });
  const t = outboxOn(smtp, 'relay-user:wrong-password@');

  it('is retried: the message is fine, the relay settings are the operator\'s to fix', async () => {
    await t.enqueue('auth@example.com');
    await t.sender.drain();
    await t.nextRound();
    const row = t.row('auth@example.com');
    expect(row).toMatchObject({ attempts: 2, sentAt: null, failedAt: null });
    expect(row.lastError).toMatch(/^EAUTH: .*535/);
    expect(row.lastError).not.toContain('wrong-password');
    expect(smtp.rcpt).toHaveLength(0);
  });
});

import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { EmailOutboxSender, type EmailSenderSettings } from '@infrastructure/email/email-outbox-sender';
import { SmtpMailer, smtpCredentialForms } from '@infrastructure/email/smtp/smtp-mailer';
import { InMemoryDatabase } from '@infrastructure/persistence/memory/in-memory-database';
import { InMemoryEmailOutbox, InMemoryEmailQueue } from '@infrastructure/persistence/memory/in-memory-email-outbox';
import { AesGcmSecretBox } from '@infrastructure/security/crypto/aes-gcm-secret-box';
import { ManualClock } from '@infrastructure/time/system-clock';

/**
 * An SMTP server that refuses the login quoting it back (user, password, and the base64 forms AUTH PLAIN and LOGIN
 * send): the SMTP_URL login must reach neither `email_outbox.last_error` nor the log, while the reply code stays.
 * Until stop 52 describeFailure redacted the recipient and token-like runs only, and the password went to both.
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

const USER = 'mailer';
// A '/' to be percent-encoded in the URL (nodemailer sends it decoded); short of TOKEN_LIKE's 22 characters.
const PASSWORD = 'SmtpAuth/Secret-77';
const URL_LOGIN = `${USER}:${encodeURIComponent(PASSWORD)}@`;
const b64 = (value: string) => Buffer.from(value, 'utf8').toString('base64');
const LEAKS = [USER, PASSWORD, encodeURIComponent(PASSWORD), b64(USER), b64(PASSWORD), b64(`\0${USER}\0${PASSWORD}`)];

describe('an SMTP server quoting the refused login: the SMTP_URL user and password stay out of the row and the log', () => {
  let server: SMTPServer;
  let port = 0;
  const methods: string[] = [];

  beforeAll(async () => {
    server = new SMTPServer({
      disabledCommands: ['STARTTLS'],
      allowInsecureAuth: true,
      logger: false,
      onAuth: (auth, _session, callback) => {
        methods.push(auth.method);
        const user = auth.username ?? '';
        const pass = auth.password ?? '';
        // Everything a careless server could echo: the login as decoded and as it came over the wire.
        const quoted = `auth refused for ${user}/${pass} (${b64(`\0${user}\0${pass}`)} ${b64(user)} ${b64(pass)})`;
        callback(Object.assign(new Error(quoted), { responseCode: 535 }));
      },
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.server.address() as AddressInfo).port;
  });

  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('keeps the reply code and redacts every form of the login the server quoted', async () => {
    const url = `smtp://${URL_LOGIN}127.0.0.1:${port}`;
    const db = new InMemoryDatabase();
    const clock = new ManualClock(new Date('2026-01-01T00:00:00Z'));
    const box = new AesGcmSecretBox(randomBytes(32));
    const mailer = new SmtpMailer({ url, from: 'Auth <auth@example.com>', rejectUnauthorized: true, requireTls: false });
    const logs: { fields: Record<string, unknown>; message: string }[] = [];
    const log = (fields: Record<string, unknown>, message: string) => void logs.push({ fields, message });
    // Composed as src/config/email.ts does: the SMTP_URL login's forms are the sender's secrets.
    const sender = new EmailOutboxSender(new InMemoryEmailQueue(db), mailer, box, clock, { info: log, warn: log, error: log }, SETTINGS, smtpCredentialForms(url));
    const outbox = new InMemoryEmailOutbox(db, { secretBox: box, clock });
    try {
      await outbox.enqueue({ to: 'r1@example.com', subject: 'Verify your email', text: 'plain body', html: '<p>html body</p>' });
      await sender.drain();
    } finally {
      mailer.close();
    }

    expect(methods).toEqual(['PLAIN']);
    const row = [...db.tables.emails.values()][0]!;
    const lastError = row.lastError ?? '';
    expect(lastError).toMatch(/^EAUTH: Invalid login: 535 auth refused for /);
    expect(row.sentAt).toBeNull();
    const logged = JSON.stringify(logs);
    expect(logs.map((l) => l.message)).toEqual(['email delivery failed; queued for retry']);
    expect(logged).toContain('535');
    for (const leak of LEAKS) {
      expect(lastError).not.toContain(leak);
      expect(logged).not.toContain(leak);
    }
  });

  it('lists the forms of the login to redact: decoded, as written in the URL, and base64 as AUTH sends them', () => {
    expect(new Set(smtpCredentialForms(`smtp://${URL_LOGIN}127.0.0.1:25`))).toEqual(new Set(LEAKS));
    expect(smtpCredentialForms('smtp://127.0.0.1:25')).toEqual([]);
  });
});

import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { SmtpMailer } from '@infrastructure/email/smtp/smtp-mailer';

/**
 * nodemailer reads options from SMTP_URL's query over the explicit ones: `?tls.rejectUnauthorized=false` made the
 * service accept any certificate, in production, while its configuration said otherwise (an outside review, stop
 * 48). The configuration now refuses such a URL, and the mailer drops the query anyway: a certificate nobody vouches
 * for (smtp-server's built-in self-signed one) is refused whatever the URL says.
 */
describe('SmtpMailer: options in the URL query do not override the TLS settings', () => {
  let server: SMTPServer;
  let port = 0;
  const received: string[] = [];

  beforeAll(async () => {
    server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['AUTH'],
      logger: false,
      onData: (stream, session, callback) => {
        stream.resume();
        stream.on('end', () => {
          received.push(session.envelope.rcptTo.map((r) => r.address).join(','));
          callback();
        });
      },
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.server.address() as AddressInfo).port;
  });
  afterAll(async () => new Promise<void>((resolve) => server.close(() => resolve())));

  const message = { to: 'someone@example.com', subject: 'Hello', text: 'Hello', html: '<p>Hello</p>' };

  it.each(['?tls.rejectUnauthorized=false', '?tls.rejectUnauthorized=false&requireTLS=false&ignoreTLS=true'])('%s: the self-signed certificate is still refused, nothing delivered', async (query) => {
    const mailer = new SmtpMailer({ url: `smtp://127.0.0.1:${port}/${query}`, from: 'Auth <auth@example.com>', rejectUnauthorized: true, requireTls: true });
    await expect(mailer.send(message)).rejects.toThrow(/certificate/i);
    expect(received).toEqual([]);
  });

  it('with the TLS checks turned off by the settings (as SMTP_TLS_REJECT_UNAUTHORIZED=false outside production), it delivers', async () => {
    const mailer = new SmtpMailer({ url: `smtp://127.0.0.1:${port}`, from: 'Auth <auth@example.com>', rejectUnauthorized: false, requireTls: true });
    await mailer.send(message);
    expect(received).toEqual(['someone@example.com']);
  });
});

import { domainToASCII } from 'node:url';
import nodemailer, { type Transporter } from 'nodemailer';
import addressparser from 'nodemailer/lib/addressparser';
import MailComposer from 'nodemailer/lib/mail-composer';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import type SMTPTransport from 'nodemailer/lib/smtp-transport';
import type { EmailMessage, Mailer } from '@application/ports/mailer';
import { PermanentDeliveryError } from '../delivery-failure';

export interface SmtpSettings {
  /** smtp://user:pass@host:587 (STARTTLS when offered) or smtps://host:465 (TLS from the start). */
  url: string;
  from: string;
  /** Verify the server's certificate (default). Off only for a test server with a self-signed one. */
  rejectUnauthorized: boolean;
  /** Refuse to send unless the connection is upgraded with STARTTLS (smtp:// URLs). */
  requireTls: boolean;
}

/**
 * Delivery over SMTP with nodemailer, one connection per message. Timeouts are short so that a dead server
 * fails the attempt quickly; the email outbox retries it. They bound silence only (a server that trickles reply
 * lines resets them): the whole attempt is bounded by the sender's deadline, through `signal`, on which nodemailer
 * closes the connection, so an attempt given up on cannot complete later.
 */
export class SmtpMailer implements Mailer {
  private readonly transport: Transporter;
  /** The right-hand side of our Message-IDs: the domain of MAIL_FROM, as its A-label. */
  private readonly messageIdDomain: string;

  constructor(private readonly settings: SmtpSettings) {
    this.messageIdDomain = messageIdDomain(settings.from);
    this.transport = nodemailer.createTransport({
      // Without its query: nodemailer would read options from it over the explicit ones below (the configuration
      // refuses such a SMTP_URL; this keeps any other caller from turning the TLS checks off that way).
      url: withoutQuery(settings.url),
      requireTLS: settings.requireTls,
      tls: { rejectUnauthorized: settings.rejectUnauthorized },
      connectionTimeout: 10_000,
      greetingTimeout: 10_000,
      socketTimeout: 60_000,
      // Messages are built from our templates only; never let a field make nodemailer read a file or a URL.
      disableFileAccess: true,
      disableUrlAccess: true,
    });
  }

  async send(message: EmailMessage, signal?: AbortSignal): Promise<void> {
    // An address object, never a string: nodemailer parses a string as an address list, and one that is not a
    // single mailbox ("x@evil.test(example.com)", "b<x@evil.test>", "x@evil.test,example.com") would go to
    // x@evil.test. The envelope is set from the same object, so RCPT TO is exactly this one mailbox.
    const to = { name: '', address: message.to };
    const envelope = { from: this.settings.from, to: [{ name: '', address: envelopeAddress(message.to) }] };
    // nodemailer normalises what it is given (< > and control characters become spaces, a local part that is neither
    // a dot-atom nor a quoted string gets quoted): never let that make RCPT TO another mailbox than the stored one.
    const recipients = composedRecipients(envelope);
    if (!isSameMailbox(recipients, message.to)) {
      throw new PermanentDeliveryError('not sent: the mail library would rewrite the recipient address into another mailbox');
    }
    if (recipients.some((address) => NON_ASCII.test(address)) && !(await this.offersSmtpUtf8(signal))) {
      throw new PermanentDeliveryError('not sent: the recipient address is not all ASCII (its local part), which needs SMTPUTF8, and the SMTP server does not offer it');
    }
    await this.transport.sendMail({
      from: this.settings.from,
      to,
      envelope,
      // The same on every attempt of one outbox row: a copy sent again (the reply to DATA was lost) is a duplicate
      // that the receiver can tell. Without an id nodemailer makes a random one.
      ...(message.id !== undefined && MSG_ID_LEFT.test(message.id) ? { messageId: `<${message.id}@${this.messageIdDomain}>` } : {}),
      subject: message.subject,
      text: message.text,
      html: message.html,
      signal,
    });
  }

  close(): void {
    this.transport.close();
  }

  /**
   * Whether the server lists SMTPUTF8 (RFC 6531) in its EHLO reply, asked on a connection of its own that says EHLO
   * (and STARTTLS, as the transport would) and QUIT, nothing else. nodemailer has no option to require SMTPUTF8: to a
   * server without it, it would send a non-ASCII address raw. Its SMTPConnection, built with the transport's own
   * settings, holds the EHLO reply as `lastServerResponse` once connected (a HELO fallback lists no extension).
   * Only asked for a non-ASCII recipient; a relay answering differently on the next connection is not foreseen.
   * Bounded by the attempt's `signal` as the message is: until stop 55 an aborted attempt left this connection open
   * until the socket timeout (60 s of silence, or never against a server trickling bytes) and its send() unsettled.
   */
  private offersSmtpUtf8(signal?: AbortSignal): Promise<boolean> {
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    const connection = new SMTPConnection({ ...(this.transport.transporter as SMTPTransport).options });
    return new Promise<boolean>((resolve, reject) => {
      const abort = () => fail(abortReason(signal));
      const fail = (error: Error) => {
        signal?.removeEventListener('abort', abort);
        connection.close();
        reject(error);
      };
      signal?.addEventListener('abort', abort, { once: true });
      connection.on('error', fail);
      connection.connect((error) => {
        signal?.removeEventListener('abort', abort);
        if (error) return fail(error);
        const ehlo = connection.lastServerResponse;
        connection.quit();
        return resolve(typeof ehlo === 'string' && /[ -]SMTPUTF8\b/im.test(ehlo));
      });
    });
  }
}

/** What an aborted attempt rejects with: the reason it was aborted for (as nodemailer's sendMail does). */
function abortReason(signal: AbortSignal | undefined): Error {
  const reason: unknown = signal?.reason;
  return reason instanceof Error ? reason : new Error('aborted');
}

const NON_ASCII = /[^\x00-\x7f]/;
const INVISIBLE = /\p{Default_Ignorable_Code_Point}/u;
/** Letters UTS #46 case-folds where `Email`'s fold left them until 2026-12-07: the iota subscript, old Cyrillic. */
const CASE_FOLDED = /[\u0345\u1C80-\u1C88]/u;

/** The RCPT TO addresses nodemailer derives from `envelope`: sendMail composes the message from it the same way. */
function composedRecipients(envelope: { from: string; to: { name: string; address: string }[] }): string[] {
  return new MailComposer({ envelope }).compile().getEnvelope().to;
}

/** Whether `recipients` is the one mailbox `address`: the same local part, octet for octet, and the same domain. */
function isSameMailbox(recipients: string[], address: string): boolean {
  if (recipients.length !== 1) return false;
  const [sent, stored] = [recipients[0]!, address];
  const [sentAt, storedAt] = [sent.lastIndexOf('@'), stored.lastIndexOf('@')];
  if (sentAt < 0 || storedAt < 0 || sent.slice(0, sentAt) !== stored.slice(0, storedAt)) return false;
  const [sentDomain, storedDomain] = [sent.slice(sentAt + 1), stored.slice(storedAt + 1)];
  // A stored domain with an invisible code point (a variation selector, stored before stop 49: UTS #46 drops it, so
  // it is another account's spelling of a mailbox whose account has the plain one) is never sent to.
  if (INVISIBLE.test(storedDomain)) return false;
  // Likewise one with a letter UTS #46 case-folds (`п\u1C82чта.рф` is почта.рф: stored before 2026-12-07).
  if (CASE_FOLDED.test(storedDomain.normalize('NFD'))) return false;
  // An IDN domain goes out as its A-label (or, with SMTPUTF8, its U-label): compare the A-labels.
  return sentDomain === storedDomain || (domainToASCII(sentDomain) !== '' && domainToASCII(sentDomain) === domainToASCII(storedDomain));
}

/** An id-left (RFC 5322 §3.6.4) that needs no quoting: a dot-atom. The outbox row ids are UUIDs. */
const MSG_ID_LEFT = /^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]+(?:\.[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]+)*$/;

/** The domain of the sender address (`Auth <auth@example.com>` -> `example.com`), ASCII; `localhost` without one. */
function messageIdDomain(from: string): string {
  const address = addressparser(from, { flatten: true })[0]?.address ?? '';
  const at = address.lastIndexOf('@');
  return (at < 0 ? '' : domainToASCII(address.slice(at + 1))) || 'localhost';
}

/**
 * The RCPT TO form of a mailbox: an IDN domain as its A-label (`user@xn--bcher-kva.example`), so that an ASCII
 * local part needs no SMTPUTF8 from the server (nodemailer already punycodes the To header, not the envelope).
 * A non-ASCII local part needs SMTPUTF8 anyway and stays as it is, as does a domain UTS #46 refuses.
 */
export function envelopeAddress(address: string): string {
  const at = address.lastIndexOf('@');
  const local = address.slice(0, at);
  if (at < 0 || /[^\x00-\x7f]/.test(local)) return address;
  const domain = domainToASCII(address.slice(at + 1));
  return domain === '' ? address : `${local}@${domain}`;
}

/**
 * What of SMTP_URL's login an SMTP error may quote, for describeFailure to redact: the user and the password as
 * nodemailer sends them (percent-decoded) and as written in the URL, and their base64 forms on the wire (AUTH LOGIN
 * sends base64(user) and base64(password), AUTH PLAIN base64("\0user\0password")). A server refusing the login may
 * echo any of them in its reply, which nodemailer puts in the error message. Empty without a login.
 */
export function smtpCredentialForms(raw: string): string[] {
  const url = new URL(raw);
  const decode = (value: string) => {
    try {
      return decodeURIComponent(value);
    } catch {
      return value; // nodemailer sends a malformed escape as written
    }
  };
  const [user, pass] = [decode(url.username), decode(url.password)];
  if (user === '' && pass === '') return [];
  const base64 = (value: string) => Buffer.from(value, 'utf8').toString('base64');
  const forms = [user, pass, url.username, url.password, base64(user), base64(pass), base64(`\0${user}\0${pass}`)];
  return [...new Set(forms.filter((form) => form !== ''))];
}

/** The URL without its query and fragment, where nodemailer looks for options. */
function withoutQuery(raw: string): string {
  const url = new URL(raw);
  url.search = '';
  url.hash = '';
  return url.toString();
}

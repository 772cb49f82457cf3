import type { EmailMessage, Mailer } from '@application/ports/mailer';

/** Keeps sent messages so tests can read them, as a user would read an inbox. */
export class InMemoryMailer implements Mailer {
  readonly sent: EmailMessage[] = [];

  async send(message: EmailMessage): Promise<void> {
    this.sent.push({ ...message });
  }

  /** The messages sent to `to`, oldest first. */
  inbox(to: string): EmailMessage[] {
    return this.sent.filter((m) => m.to === to);
  }
}

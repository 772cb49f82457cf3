import { join } from 'node:path';
import type { Logger } from 'pino';
import type { DataSource } from 'typeorm';
import type { Clock } from '@application/ports/clock';
import type { Mailer } from '@application/ports/mailer';
import type { SecretBox } from '@application/ports/secret-box';
import { DevMailboxMailer } from '@infrastructure/email/dev-mailbox/dev-mailbox-mailer';
import { DEFAULT_EMAIL_SENDER_SETTINGS, EmailOutboxSender } from '@infrastructure/email/email-outbox-sender';
import { SmtpMailer, smtpCredentialForms } from '@infrastructure/email/smtp/smtp-mailer';
import { TypeOrmEmailQueue } from '@infrastructure/persistence/typeorm/typeorm-email-outbox';
import type { AppConfig } from './env';

export interface EmailDelivery {
  /** SMTP when SMTP_URL is set, the dev mailbox otherwise (or the test's mailer). */
  mailer: Mailer;
  /** Delivers the email outbox in the background; poked after every commit that queued an email. */
  sender: EmailOutboxSender;
  /** Stops the sender after the message on the wire (its unstarted rows handed back), then the SMTP transport. */
  close(): Promise<void>;
}

export function startEmailDelivery(
  config: AppConfig,
  dataDir: string,
  logger: Logger,
  deps: { dataSource: DataSource; secretBox: SecretBox; clock: Clock; mailer?: Mailer | undefined },
  /** false: the sender is made but never started (the CLI: the service's sender sends what it queues). */
  send = true,
): EmailDelivery {
  const smtp =
    deps.mailer === undefined && config.smtpUrl !== null
      ? new SmtpMailer({ url: config.smtpUrl, from: config.mailFrom, ...config.smtpTls })
      : null;
  const mailer = deps.mailer ?? smtp ?? new DevMailboxMailer(join(dataDir, 'mail'), config.mailFrom, logger);
  const settings = { ...DEFAULT_EMAIL_SENDER_SETTINGS, ...config.emailQueue };
  // The SMTP login, which a server refusing it may quote in its reply: never into a row or the log.
  const secrets = smtp !== null && config.smtpUrl !== null ? smtpCredentialForms(config.smtpUrl) : [];
  const sender = new EmailOutboxSender(new TypeOrmEmailQueue(deps.dataSource), mailer, deps.secretBox, deps.clock, logger, settings, secrets);
  if (send) sender.start();
  return {
    mailer,
    sender,
    async close() {
      await sender.stop();
      smtp?.close();
    },
  };
}

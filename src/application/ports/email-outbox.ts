import type { EmailMessage } from './mailer';

/**
 * Durable email queue, written in the same transaction as the change that causes the email (so a committed
 * change never loses its email, and a rolled-back one never sends one). A background sender delivers queued
 * messages through the Mailer with retries. Part of `Repositories` once wired.
 */
export interface EmailOutbox {
  enqueue(message: EmailMessage): Promise<void>;
}

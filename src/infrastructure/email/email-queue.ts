import { randomUUID } from 'node:crypto';
import type { EmailMessage } from '@application/ports/mailer';
import type { SecretBox } from '@application/ports/secret-box';

/**
 * A queued email as stored (table `email_outbox`). The bodies carry tokens (links), so they are sealed with
 * AES-256-GCM under ENCRYPTION_KEY; recipient and subject stay readable because sending and operating need them.
 */
export interface QueuedEmailRow {
  id: string;
  recipient: string;
  subject: string;
  sealedText: string;
  sealedHtml: string;
  createdAt: Date;
  attempts: number;
  nextAttemptAt: Date;
  /** While a sender holds the row: nobody else claims it before this instant. */
  lockedUntil: Date | null;
  /** Which claim holds it; only that claim may mark the row sent or failed. */
  claimId: string | null;
  sentAt: Date | null;
  /** The last delivery error (code and server reply), never the body. */
  lastError: string | null;
}

export type ClaimedEmail = Pick<QueuedEmailRow, 'id' | 'recipient' | 'subject' | 'sealedText' | 'sealedHtml' | 'attempts'> & {
  claimId: string;
};

/** The sender's view of the queue. Claims are leases: a crashed sender's rows come back when the lease ends. */
export interface EmailQueue {
  /** Up to `limit` unsent rows due at `now` and not leased, leased to a new claim until `leaseUntil`; attempts + 1. */
  claimDue(now: Date, limit: number, leaseUntil: Date): Promise<ClaimedEmail[]>;
  markSent(email: ClaimedEmail, now: Date): Promise<void>;
  markFailed(email: ClaimedEmail, error: string, nextAttemptAt: Date): Promise<void>;
}

export function newQueuedEmail(box: SecretBox, message: EmailMessage, now: Date): QueuedEmailRow {
  return {
    id: randomUUID(),
    recipient: message.to,
    subject: message.subject,
    sealedText: box.seal(message.text),
    sealedHtml: box.seal(message.html),
    createdAt: now,
    attempts: 0,
    nextAttemptAt: now,
    lockedUntil: null,
    claimId: null,
    sentAt: null,
    lastError: null,
  };
}

import { randomUUID } from 'node:crypto';
import type { EmailMessage } from '@application/ports/mailer';
import { SEALED, type SecretBox } from '@application/ports/secret-box';

/**
 * A queued email as stored (table `email_outbox`). The bodies carry tokens (links), so they are sealed with
 * AES-256-GCM under ENCRYPTION_KEY; recipient and subject stay readable because sending and operating need them.
 */
export interface QueuedEmailRow {
  id: string;
  recipient: string;
  subject: string;
  /**
   * The sealed bodies, dropped (null) once the email is sent: they carry its links, and a sent row stays until the
   * purge (an outside review, 2026-12-08: with the database and the key, a week of sent links could be opened).
   */
  sealedText: string | null;
  sealedHtml: string | null;
  createdAt: Date;
  /** Every claim of the row (the retry backoff grows with it), relay outages included. */
  attempts: number;
  /** The failed attempts that were about this message (isAboutMessage): EMAIL_MAX_ATTEMPTS counts only these. */
  messageFailures: number;
  nextAttemptAt: Date;
  /** While a sender holds the row: nobody else claims it before this instant. */
  lockedUntil: Date | null;
  /** Which claim holds it; only that claim may mark the row sent or failed. */
  claimId: string | null;
  sentAt: Date | null;
  /** Given up (too many attempts or too old): kept for inspection, never claimed again, purged after the retention. */
  failedAt: Date | null;
  /** The last delivery error (code and server reply), never the body. */
  lastError: string | null;
}

/** A claimed row is never a sent one: its bodies are there. */
export type ClaimedEmail = Pick<QueuedEmailRow, 'id' | 'recipient' | 'subject' | 'attempts' | 'messageFailures' | 'createdAt'> & {
  sealedText: string;
  sealedHtml: string;
  claimId: string;
};

/** Rows still to be sent (due or waiting for a retry) and rows given up on. */
export interface EmailQueueCounts {
  queued: number;
  failed: number;
}

/** The sender's view of the queue. Claims are leases: a crashed sender's rows come back when the lease ends. */
export interface EmailQueue {
  /** Up to `limit` unsent, not failed rows due at `now` and not leased, leased to a new claim until `leaseUntil`; attempts + 1. */
  claimDue(now: Date, limit: number, leaseUntil: Date): Promise<ClaimedEmail[]>;
  /**
   * Re-leases, until `leaseUntil`, those of `emails` their claim still holds with a live lease (not lapsed at `now`,
   * unsent, not failed), and returns their ids. A row left out may have been claimed by another sender: not to be sent.
   */
  extendLease(emails: ClaimedEmail[], now: Date, leaseUntil: Date): Promise<Set<string>>;
  /** Hands back claimed rows that were not tried (shutdown): unleased, due as before, attempts - 1. Current claim only. */
  release(emails: ClaimedEmail[]): Promise<void>;
  markSent(email: ClaimedEmail, now: Date): Promise<void>;
  /**
   * This attempt failed: retry at `nextAttemptAt`; `aboutMessage`: the failure was about the message, and counts
   * (message_failures + 1). Only the current claim may do this.
   */
  markFailed(email: ClaimedEmail, error: string, nextAttemptAt: Date, aboutMessage: boolean): Promise<void>;
  /**
   * Give up for good (failed_at = now, message_failures = the claim's): the row stays for inspection and is never
   * claimed again. Current claim only.
   */
  markUndeliverable(email: ClaimedEmail, error: string, now: Date): Promise<void>;
  countByState(): Promise<EmailQueueCounts>;
}

export function newQueuedEmail(box: SecretBox, message: EmailMessage, now: Date): QueuedEmailRow {
  const id = randomUUID();
  return {
    id,
    recipient: message.to,
    subject: message.subject,
    sealedText: box.seal(message.text, SEALED.emailBody(id, 'text')),
    sealedHtml: box.seal(message.html, SEALED.emailBody(id, 'html')),
    createdAt: now,
    attempts: 0,
    messageFailures: 0,
    nextAttemptAt: now,
    lockedUntil: null,
    claimId: null,
    sentAt: null,
    failedAt: null,
    lastError: null,
  };
}

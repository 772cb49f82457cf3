import { randomUUID } from 'node:crypto';
import type { EmailOutbox } from '@application/ports/email-outbox';
import type { EmailMessage } from '@application/ports/mailer';
import type { DataSource, EntityManager } from 'typeorm';
import { type ClaimedEmail, type EmailQueue, type EmailQueueCounts, newQueuedEmail } from '../../email/email-queue';
import { wakeAfterCommit } from '../after-commit';
import type { RepositoryOptions } from '../repository-options';
import { EmailOutboxRecord } from './email-outbox.record';

/** Queues an email through the given EntityManager: inside a unit of work it commits with the change it is about. */
export class TypeOrmEmailOutbox implements EmailOutbox {
  constructor(
    private readonly manager: EntityManager,
    private readonly options: RepositoryOptions,
  ) {}

  async enqueue(message: EmailMessage): Promise<void> {
    await this.manager.insert(EmailOutboxRecord, newQueuedEmail(this.options.secretBox, message, this.options.clock.now()));
    wakeAfterCommit(this.manager, 'emailSender');
  }
}

/**
 * The sender's side. A claim is one short statement: due rows are locked with FOR UPDATE SKIP LOCKED (concurrent
 * claimers on other instances skip them instead of waiting) and leased by `locked_until`, so the SMTP
 * conversation happens outside any transaction and a crashed sender's rows become due again when the lease ends.
 */
export class TypeOrmEmailQueue implements EmailQueue {
  constructor(private readonly dataSource: DataSource) {}

  async claimDue(now: Date, limit: number, leaseUntil: Date): Promise<ClaimedEmail[]> {
    const claimId = randomUUID();
    const result: unknown = await this.dataSource.query(
      `UPDATE email_outbox o
          SET locked_until = $2, claim_id = $3, attempts = o.attempts + 1
         FROM (SELECT id FROM email_outbox
                WHERE sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= $1 AND (locked_until IS NULL OR locked_until <= $1)
                ORDER BY next_attempt_at, created_at
                LIMIT $4
                FOR UPDATE SKIP LOCKED) due
        WHERE o.id = due.id
    RETURNING o.id, o.recipient, o.subject, o.sealed_text AS "sealedText", o.sealed_html AS "sealedHtml", o.attempts,
              o.message_failures AS "messageFailures", o.created_at AS "createdAt"`,
      [now, leaseUntil, claimId, limit],
    );
    return rowsOf(result).map((row) => ({ ...row, claimId }));
  }

  /** One statement for the batch: a row whose lease lapsed (perhaps claimed by another sender since) is left out. */
  async extendLease(emails: ClaimedEmail[], now: Date, leaseUntil: Date): Promise<Set<string>> {
    if (emails.length === 0) return new Set();
    const result: unknown = await this.dataSource.query(
      `UPDATE email_outbox o SET locked_until = $4
         FROM unnest($1::uuid[], $2::uuid[]) AS held(id, claim_id)
        WHERE o.id = held.id AND o.claim_id = held.claim_id AND o.locked_until > $3 AND o.sent_at IS NULL AND o.failed_at IS NULL
    RETURNING o.id`,
      [emails.map((e) => e.id), emails.map((e) => e.claimId), now, leaseUntil],
    );
    return new Set(rowsOf(result).map((row) => row.id));
  }

  async release(emails: ClaimedEmail[]): Promise<void> {
    if (emails.length === 0) return;
    await this.dataSource.query(
      `UPDATE email_outbox o SET locked_until = NULL, claim_id = NULL, attempts = GREATEST(o.attempts - 1, 0)
         FROM unnest($1::uuid[], $2::uuid[]) AS held(id, claim_id)
        WHERE o.id = held.id AND o.claim_id = held.claim_id AND o.sent_at IS NULL AND o.failed_at IS NULL`,
      [emails.map((e) => e.id), emails.map((e) => e.claimId)],
    );
  }

  /**
   * Whoever delivered it marks it, even if its lease ran out meanwhile: one duplicate fewer, never one more. A
   * later claim may have given up on it meanwhile; it was delivered after all, so it counts as sent. Its sealed
   * bodies go (QueuedEmailRow): a sent row is never claimed again.
   */
  async markSent(email: ClaimedEmail, now: Date): Promise<void> {
    await this.dataSource.query(
      'UPDATE email_outbox SET sent_at = $2, failed_at = NULL, locked_until = NULL, last_error = NULL, sealed_text = NULL, sealed_html = NULL WHERE id = $1 AND sent_at IS NULL',
      [email.id, now],
    );
  }

  async markFailed(email: ClaimedEmail, error: string, nextAttemptAt: Date, aboutMessage: boolean): Promise<void> {
    await this.dataSource.query(
      `UPDATE email_outbox SET next_attempt_at = $3, last_error = $4, locked_until = NULL, claim_id = NULL,
              message_failures = message_failures + $5
        WHERE id = $1 AND claim_id = $2 AND sent_at IS NULL AND failed_at IS NULL`,
      [email.id, email.claimId, nextAttemptAt, error, aboutMessage ? 1 : 0],
    );
  }

  async markUndeliverable(email: ClaimedEmail, error: string, now: Date): Promise<void> {
    await this.dataSource.query(
      `UPDATE email_outbox SET failed_at = $3, last_error = $4, locked_until = NULL, claim_id = NULL, message_failures = $5
        WHERE id = $1 AND claim_id = $2 AND sent_at IS NULL AND failed_at IS NULL`,
      [email.id, email.claimId, now, error, email.messageFailures],
    );
  }

  async countByState(): Promise<EmailQueueCounts> {
    const rows: { queued: number; failed: number }[] = await this.dataSource.query(COUNT_BY_STATE_SQL);
    return { queued: Number(rows[0]?.queued ?? 0), failed: Number(rows[0]?.failed ?? 0) };
  }
}

/**
 * The queue gauge's counts, each from its partial index (email_outbox_due_idx, email_outbox_failed_at_idx): marking a row
 * sent clears its failed_at, so `failed_at IS NOT NULL` alone counts the failed ones. Until an outside review (2026-12-08) one
 * `WHERE sent_at IS NULL` matched no partial index and read the whole table, sent mail of seven days and its sealed
 * bodies included, at every scrape; past the gauge's 1 s deadline it read -1. Exported for the plan test.
 */
export const COUNT_BY_STATE_SQL = `SELECT (SELECT count(*) FROM email_outbox WHERE sent_at IS NULL AND failed_at IS NULL)::int AS queued,
        (SELECT count(*) FROM email_outbox WHERE failed_at IS NOT NULL)::int AS failed`;

type ClaimedRow = Omit<ClaimedEmail, 'claimId'>;

/** TypeORM's postgres driver answers an UPDATE ... RETURNING with [rows, affectedCount]. */
function rowsOf(result: unknown): ClaimedRow[] {
  if (Array.isArray(result) && Array.isArray(result[0])) return result[0] as ClaimedRow[];
  return Array.isArray(result) ? (result as ClaimedRow[]) : [];
}

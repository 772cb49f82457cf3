import { randomUUID } from 'node:crypto';
import type { EmailOutbox } from '@application/ports/email-outbox';
import type { EmailMessage } from '@application/ports/mailer';
import { type ClaimedEmail, type EmailQueue, type EmailQueueCounts, newQueuedEmail } from '../../email/email-queue';
import { wakeAfterCommit } from '../after-commit';
import type { RepositoryOptions } from '../repository-options';
import type { InMemoryDatabase } from './in-memory-database';

/** Queues into the in-memory `emails` table: rolled back with the rest when the unit of work fails. */
export class InMemoryEmailOutbox implements EmailOutbox {
  constructor(
    private readonly db: InMemoryDatabase,
    private readonly options: RepositoryOptions,
  ) {}

  async enqueue(message: EmailMessage): Promise<void> {
    const row = newQueuedEmail(this.options.secretBox, message, this.options.clock.now());
    this.db.tables.emails.set(row.id, row);
    wakeAfterCommit(this.db, 'emailSender');
  }
}

/**
 * The sender's side with the semantics of the SQL one: due, unleased, not failed rows oldest first; leases,
 * extended only while live; claim-checked failures and releases; failed rows kept and never claimed.
 */
export class InMemoryEmailQueue implements EmailQueue {
  constructor(private readonly db: InMemoryDatabase) {}

  async claimDue(now: Date, limit: number, leaseUntil: Date): Promise<ClaimedEmail[]> {
    const claimId = randomUUID();
    const due = [...this.db.tables.emails.values()]
      .filter((r) => r.sentAt === null && r.failedAt === null && r.nextAttemptAt <= now && (r.lockedUntil === null || r.lockedUntil <= now))
      .filter((r): r is typeof r & { sealedText: string; sealedHtml: string } => r.sealedText !== null && r.sealedHtml !== null) // every unsent row
      .sort((a, b) => a.nextAttemptAt.getTime() - b.nextAttemptAt.getTime() || a.createdAt.getTime() - b.createdAt.getTime())
      .slice(0, limit);
    return due.map((row) => {
      const claimed = { ...row, attempts: row.attempts + 1, lockedUntil: leaseUntil, claimId };
      this.db.tables.emails.set(row.id, claimed);
      const { id, recipient, subject, sealedText, sealedHtml, attempts, messageFailures, createdAt } = claimed;
      return { id, recipient, subject, sealedText, sealedHtml, attempts, messageFailures, createdAt, claimId };
    });
  }

  async extendLease(emails: ClaimedEmail[], now: Date, leaseUntil: Date): Promise<Set<string>> {
    const held = new Set<string>();
    for (const email of emails) {
      const row = this.claimed(email);
      if (!row || row.lockedUntil === null || row.lockedUntil <= now) continue;
      this.db.tables.emails.set(email.id, { ...row, lockedUntil: leaseUntil });
      held.add(email.id);
    }
    return held;
  }

  async release(emails: ClaimedEmail[]): Promise<void> {
    for (const email of emails) {
      const row = this.claimed(email);
      if (row) this.db.tables.emails.set(email.id, { ...row, attempts: Math.max(0, row.attempts - 1), lockedUntil: null, claimId: null });
    }
  }

  async markSent(email: ClaimedEmail, now: Date): Promise<void> {
    const row = this.db.tables.emails.get(email.id);
    if (row && row.sentAt === null) this.db.tables.emails.set(email.id, { ...row, sentAt: now, failedAt: null, lockedUntil: null, lastError: null, sealedText: null, sealedHtml: null });
  }

  async markFailed(email: ClaimedEmail, error: string, nextAttemptAt: Date, aboutMessage: boolean): Promise<void> {
    const row = this.claimed(email);
    if (!row) return;
    const messageFailures = row.messageFailures + (aboutMessage ? 1 : 0);
    this.db.tables.emails.set(email.id, { ...row, nextAttemptAt, lastError: error, lockedUntil: null, claimId: null, messageFailures });
  }

  async markUndeliverable(email: ClaimedEmail, error: string, now: Date): Promise<void> {
    const row = this.claimed(email);
    if (row) this.db.tables.emails.set(email.id, { ...row, failedAt: now, lastError: error, lockedUntil: null, claimId: null, messageFailures: email.messageFailures });
  }

  async countByState(): Promise<EmailQueueCounts> {
    const counts = { queued: 0, failed: 0 };
    for (const row of this.db.tables.emails.values()) {
      if (row.failedAt !== null) counts.failed += 1;
      else if (row.sentAt === null) counts.queued += 1;
    }
    return counts;
  }

  /** The row while `email`'s claim still holds it (unsent, not failed): a stale claim changes nothing. */
  private claimed(email: ClaimedEmail) {
    const row = this.db.tables.emails.get(email.id);
    return row && row.sentAt === null && row.failedAt === null && row.claimId === email.claimId ? row : null;
  }
}

import { randomUUID } from 'node:crypto';
import type { EmailOutbox } from '@application/ports/email-outbox';
import type { EmailMessage } from '@application/ports/mailer';
import { type ClaimedEmail, type EmailQueue, newQueuedEmail } from '../../email/email-queue';
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
    this.options.onEmailQueued?.();
  }
}

/** The sender's side with the semantics of the SQL one: due, unleased rows oldest first; leases; claim-checked failures. */
export class InMemoryEmailQueue implements EmailQueue {
  constructor(private readonly db: InMemoryDatabase) {}

  async claimDue(now: Date, limit: number, leaseUntil: Date): Promise<ClaimedEmail[]> {
    const claimId = randomUUID();
    const due = [...this.db.tables.emails.values()]
      .filter((r) => r.sentAt === null && r.nextAttemptAt <= now && (r.lockedUntil === null || r.lockedUntil <= now))
      .sort((a, b) => a.nextAttemptAt.getTime() - b.nextAttemptAt.getTime() || a.createdAt.getTime() - b.createdAt.getTime())
      .slice(0, limit);
    return due.map((row) => {
      const claimed = { ...row, attempts: row.attempts + 1, lockedUntil: leaseUntil, claimId };
      this.db.tables.emails.set(row.id, claimed);
      const { id, recipient, subject, sealedText, sealedHtml, attempts } = claimed;
      return { id, recipient, subject, sealedText, sealedHtml, attempts, claimId };
    });
  }

  async markSent(email: ClaimedEmail, now: Date): Promise<void> {
    const row = this.db.tables.emails.get(email.id);
    if (row && row.sentAt === null) this.db.tables.emails.set(email.id, { ...row, sentAt: now, lockedUntil: null, lastError: null });
  }

  async markFailed(email: ClaimedEmail, error: string, nextAttemptAt: Date): Promise<void> {
    const row = this.db.tables.emails.get(email.id);
    if (!row || row.sentAt !== null || row.claimId !== email.claimId) return;
    this.db.tables.emails.set(email.id, { ...row, nextAttemptAt, lastError: error, lockedUntil: null, claimId: null });
  }
}

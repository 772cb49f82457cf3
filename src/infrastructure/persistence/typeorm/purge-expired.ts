import type { DataSource } from 'typeorm';

export interface PurgeCounts {
  sessions: number;
  oneTimeTokens: number;
  outboxEvents: number;
  /** Sent emails (recipient, subject, sealed bodies) past the retention; queued ones are never purged. */
  sentEmails: number;
  /**
   * Emails given up on (EMAIL_MAX_ATTEMPTS / EMAIL_MAX_AGE), kept the same retention after failing for
   * inspection of `last_error`, then deleted: they hold an address and sealed links nobody will send.
   */
  failedEmails: number;
  /** Processed account requests (their payload is already gone); pending ones are never purged. */
  accountRequests: number;
}

/**
 * Deletes rows nobody can use any more. Sessions are kept a week past their end so that "this session was
 * revoked" stays answerable for a while; retired refresh-token hashes go with their session (cascade).
 */
export async function purgeExpiredRows(dataSource: DataSource, now: Date, outboxRetentionDays = 7): Promise<PurgeCounts> {
  const week = new Date(now.getTime() - 7 * 86400_000);
  const outboxCutoff = new Date(now.getTime() - outboxRetentionDays * 86400_000);
  return dataSource.transaction(async (manager) => {
    const sessions = await manager.query(
      'DELETE FROM sessions WHERE expires_at < $1 OR revoked_at < $1',
      [week],
    );
    const tokens = await manager.query(
      'DELETE FROM one_time_tokens WHERE expires_at < $1 OR consumed_at < $1',
      [now],
    );
    const outbox = await manager.query(
      'DELETE FROM outbox_events WHERE published_at IS NOT NULL AND published_at < $1',
      [outboxCutoff],
    );
    const emails = await manager.query('DELETE FROM email_outbox WHERE sent_at < $1', [outboxCutoff]);
    const failed = await manager.query('DELETE FROM email_outbox WHERE failed_at < $1', [outboxCutoff]);
    const requests = await manager.query('DELETE FROM account_requests WHERE processed_at < $1', [outboxCutoff]);
    return {
      sessions: affected(sessions),
      oneTimeTokens: affected(tokens),
      outboxEvents: affected(outbox),
      sentEmails: affected(emails),
      failedEmails: affected(failed),
      accountRequests: affected(requests),
    };
  });
}

/** TypeORM's postgres driver answers a DELETE with [rows, affectedCount]. */
function affected(result: unknown): number {
  return Array.isArray(result) && typeof result[1] === 'number' ? result[1] : 0;
}

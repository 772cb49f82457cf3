import type { DataSource } from 'typeorm';
import { SESSION_PURGE_AT, TOKEN_PURGE_AT } from '../../../../migrations/1764540000000-growth-indexes';
import { PROCESSED_PURGE_CONDITION } from './typeorm-outbox-store';

export interface PurgeCounts {
  /**
   * The retired refresh-token hashes of the sessions purged below, deleted first, in batches of their own: until stop
   * 60 they went with their session through the cascade, inside the sessions' batches, so a batch of 5,000 sessions
   * could delete any number of rows (a session keeps one per rotation: a review of stop 60).
   */
  refreshTokenHistory: number;
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
  /** Subscribers' de-duplication records past the retention (the relay also purges them, hourly). */
  processedEvents: number;
  /** Audit entries older than AUDIT_RETENTION (0 with the default, which keeps them for ever). */
  auditEvents: number;
}

export interface PurgeOptions {
  /** Rows deleted per transaction (default PURGE_BATCH_SIZE). */
  batchSize?: number;
  /** Called inside each batch's transaction, after its DELETE (tests look at the locks from outside). */
  inBatch?: (table: keyof PurgeCounts, deleted: number) => Promise<void>;
  /** Audit entries older than this go (AUDIT_RETENTION); 0 or absent: they are kept for ever. */
  auditRetentionSeconds?: number;
  /** Once aborted, no further batch starts (the one under way commits): the service's shutdown (PurgeSchedule). */
  signal?: AbortSignal;
  /** A pause between two batches (ms), so that requests waiting for a connection go first (the service's purge). */
  pauseMs?: number;
  /**
   * Given, a table whose batch fails is reported here and left (its count: what it deleted before), and the purge
   * goes on with the next: the service's purge, so that one table past the query deadline does not keep the others
   * unpurged. Absent, the failure ends the purge (the CLI's: its exit code says so).
   */
  onTableError?: (table: keyof PurgeCounts, error: unknown) => void;
}

export const PURGE_BATCH_SIZE = 5000;

/**
 * Deletes rows nobody can use any more. Sessions are kept a week past their end so that "this session was
 * revoked" stays answerable for a while; their retired refresh-token hashes go just before them.
 *
 * In batches: each is one short transaction that deletes at most `batchSize` rows, found by index, locked
 * `FOR UPDATE SKIP LOCKED`, so the job never waits on a row a request holds (such a row is left for the next
 * run) and never locks a live row; a table is done when a batch deletes fewer rows than the batch size.
 */
export async function purgeExpiredRows(dataSource: DataSource, now: Date, outboxRetentionDays = 7, options: PurgeOptions = {}): Promise<PurgeCounts> {
  const week = new Date(now.getTime() - 7 * 86400_000);
  const outboxCutoff = new Date(now.getTime() - outboxRetentionDays * 86400_000);
  const batchSize = Math.max(1, Math.floor(options.batchSize ?? PURGE_BATCH_SIZE));
  const auditRetentionSeconds = options.auditRetentionSeconds ?? 0;
  // Tables whose batch failed (onTableError): the purge went on without them.
  const failed = new Set<keyof PurgeCounts>();
  // `select`: the rows of a batch, by ctid, at most $2 of them, cut off at $1.
  const purge = async (name: keyof PurgeCounts, table: string, condition: string, cutoff: Date, select?: string): Promise<number> => {
    const sql = `DELETE FROM ${table} WHERE ctid = ANY(ARRAY(
      ${select ?? `SELECT ctid FROM ${table} WHERE ${condition} LIMIT $2 FOR UPDATE SKIP LOCKED`}))`;
    let total = 0;
    for (;;) {
      if (options.signal?.aborted) return total;
      let deleted: number;
      try {
        deleted = await dataSource.transaction(async (manager) => {
          const n = affected(await manager.query(sql, [cutoff, batchSize]));
          if (options.inBatch) await options.inBatch(name, n);
          return n;
        });
      } catch (error) {
        if (!options.onTableError) throw error;
        failed.add(name);
        options.onTableError(name, error);
        return total;
      }
      total += deleted;
      if (deleted < batchSize) return total;
      if (options.pauseMs) await new Promise((resolve) => setTimeout(resolve, options.pauseMs));
    }
  };
  // The sessions by their purge expression's index, their history by its session_id index; the cascade then finds none.
  const history = `SELECT h.ctid FROM refresh_token_history h JOIN sessions s ON s.id = h.session_id
      WHERE ${SESSION_PURGE_AT} < $1 LIMIT $2 FOR UPDATE OF h SKIP LOCKED`;
  const refreshTokenHistory = await purge('refreshTokenHistory', 'refresh_token_history', '', week, history);
  return {
    refreshTokenHistory,
    // Not after a history pass that failed (onTableError): the sessions' cascade would then delete their history
    // inside its batches, any number of rows each, which is what the pass before exists to prevent.
    sessions: failed.has('refreshTokenHistory') ? 0 : await purge('sessions', 'sessions', `${SESSION_PURGE_AT} < $1`, week),
    oneTimeTokens: await purge('oneTimeTokens', 'one_time_tokens', `${TOKEN_PURGE_AT} < $1`, now),
    outboxEvents: await purge('outboxEvents', 'outbox_events', 'published_at IS NOT NULL AND published_at < $1', outboxCutoff),
    sentEmails: await purge('sentEmails', 'email_outbox', 'sent_at IS NOT NULL AND sent_at < $1', outboxCutoff),
    failedEmails: await purge('failedEmails', 'email_outbox', 'failed_at IS NOT NULL AND failed_at < $1', outboxCutoff),
    accountRequests: await purge('accountRequests', 'account_requests', 'processed_at IS NOT NULL AND processed_at < $1', outboxCutoff),
    processedEvents: await purge('processedEvents', 'processed_events', PROCESSED_PURGE_CONDITION, outboxCutoff),
    // By audit_events_occurred_at_id_idx; the trail's own retention (they name accounts, IPs and user agents).
    auditEvents: auditRetentionSeconds > 0 ? await purge('auditEvents', 'audit_events', 'occurred_at < $1', new Date(now.getTime() - auditRetentionSeconds * 1000)) : 0,
  };
}

/** TypeORM's postgres driver answers a DELETE with [rows, affectedCount]. */
function affected(result: unknown): number {
  return Array.isArray(result) && typeof result[1] === 'number' ? result[1] : 0;
}

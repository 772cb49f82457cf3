import { randomUUID } from 'node:crypto';
import type { AccountRequest, AccountRequestClaim, AccountRequests } from '@application/ports/account-requests';
import type { ClientContext } from '@application/shared/client-context';
import { Errors } from '@application/shared/errors';
import type { DataSource, EntityManager } from 'typeorm';
import { type AccountRequestQueue, type ClaimedAccountRequest, newAccountRequestRow } from '../../jobs/account-request-queue';
import { wakeAfterCommit } from '../after-commit';
import type { RepositoryOptions } from '../repository-options';
import { AccountRequestRecord } from './account-request.record';
import { violatedUniqueConstraint } from './pg-errors';

/** Records requests through the given EntityManager: inside a unit of work, the worker is woken after commit. */
export class TypeOrmAccountRequests implements AccountRequests {
  constructor(
    private readonly manager: EntityManager,
    private readonly options: RepositoryOptions,
  ) {}

  async add(request: AccountRequest, client: ClientContext): Promise<void> {
    const row = newAccountRequestRow(this.options.secretBox, request, client, this.options.clock.now());
    try {
      await this.manager.insert(AccountRequestRecord, row);
    } catch (error) {
      if (violatedUniqueConstraint(error) === 'account_requests_pending_username_key') {
        throw Errors.usernameTaken();
      }
      throw error;
    }
    wakeAfterCommit(this.manager, 'accountRequests');
  }

  /** The UPDATE locks the row until the worker's transaction ends; a competing claim's UPDATE then finds nothing. */
  async complete(claim: AccountRequestClaim, now: Date): Promise<boolean> {
    const result: unknown = await this.manager.query(
      `UPDATE account_requests SET processed_at = $3, locked_until = NULL, sealed_payload = NULL, username = NULL
        WHERE id = $1 AND claim_id = $2 AND processed_at IS NULL`,
      [claim.id, claim.claimId, now],
    );
    return affected(result) === 1;
  }
}

/** The worker's side: a claim is one statement (FOR UPDATE SKIP LOCKED, then a lease), as for the email outbox. */
export class TypeOrmAccountRequestQueue implements AccountRequestQueue {
  constructor(private readonly dataSource: DataSource) {}

  async claimDue(now: Date, limit: number, leaseUntil: Date): Promise<ClaimedAccountRequest[]> {
    const claimId = randomUUID();
    const result: unknown = await this.dataSource.query(
      `UPDATE account_requests r
          SET locked_until = $2, claim_id = $3, attempts = r.attempts + 1
         FROM (SELECT id FROM account_requests
                WHERE processed_at IS NULL AND next_attempt_at <= $1 AND (locked_until IS NULL OR locked_until <= $1)
                ORDER BY next_attempt_at, created_at
                LIMIT $4
                FOR UPDATE SKIP LOCKED) due
        WHERE r.id = due.id
    RETURNING r.id, r.sealed_payload AS "sealedPayload", r.attempts, r.failures, r.created_at AS "createdAt"`,
      [now, leaseUntil, claimId, limit],
    );
    return rowsOf(result).map((row) => ({ ...row, claimId }));
  }

  async markFailed(claim: AccountRequestClaim, error: string, nextAttemptAt: Date, ownFailure: boolean): Promise<void> {
    await this.dataSource.query(
      `UPDATE account_requests SET next_attempt_at = $3, last_error = $4, locked_until = NULL, claim_id = NULL, failures = failures + $5
        WHERE id = $1 AND claim_id = $2 AND processed_at IS NULL`,
      [claim.id, claim.claimId, nextAttemptAt, error, ownFailure ? 1 : 0],
    );
  }

  async release(claims: AccountRequestClaim[]): Promise<void> {
    if (claims.length === 0) return;
    await this.dataSource.query(
      `UPDATE account_requests r SET locked_until = NULL, claim_id = NULL, attempts = GREATEST(r.attempts - 1, 0)
         FROM unnest($1::uuid[], $2::uuid[]) AS held(id, claim_id)
        WHERE r.id = held.id AND r.claim_id = held.claim_id AND r.processed_at IS NULL`,
      [claims.map((c) => c.id), claims.map((c) => c.claimId)],
    );
  }

  async abandon(claim: AccountRequestClaim, error: string, now: Date): Promise<void> {
    await this.dataSource.query(
      `UPDATE account_requests SET processed_at = $3, last_error = $4, locked_until = NULL, sealed_payload = NULL, username = NULL
        WHERE id = $1 AND claim_id = $2 AND processed_at IS NULL`,
      [claim.id, claim.claimId, now, error],
    );
  }
}

type ClaimedRow = Omit<ClaimedAccountRequest, 'claimId'>;

/** TypeORM's postgres driver answers an UPDATE ... RETURNING with [rows, affectedCount]. */
function rowsOf(result: unknown): ClaimedRow[] {
  if (Array.isArray(result) && Array.isArray(result[0])) return result[0] as ClaimedRow[];
  return Array.isArray(result) ? (result as ClaimedRow[]) : [];
}

function affected(result: unknown): number {
  return Array.isArray(result) && typeof result[1] === 'number' ? result[1] : 0;
}

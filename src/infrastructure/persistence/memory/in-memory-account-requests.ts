import { randomUUID } from 'node:crypto';
import type { AccountRequest, AccountRequestClaim, AccountRequests } from '@application/ports/account-requests';
import type { ClientContext } from '@application/shared/client-context';
import { Errors } from '@application/shared/errors';
import { type AccountRequestQueue, type ClaimedAccountRequest, newAccountRequestRow } from '../../jobs/account-request-queue';
import { wakeAfterCommit } from '../after-commit';
import type { RepositoryOptions } from '../repository-options';
import type { InMemoryDatabase } from './in-memory-database';

/** The `account_requests` table in memory, with the SQL one's pending-username reservation. */
export class InMemoryAccountRequests implements AccountRequests {
  constructor(
    private readonly db: InMemoryDatabase,
    private readonly options: RepositoryOptions,
  ) {}

  async add(request: AccountRequest, client: ClientContext): Promise<void> {
    const row = newAccountRequestRow(this.options.secretBox, request, client, this.options.clock.now());
    const rows = this.db.tables.accountRequests;
    if (row.username !== null && [...rows.values()].some((r) => r.processedAt === null && r.username === row.username)) {
      throw Errors.usernameTaken();
    }
    rows.set(row.id, row);
    wakeAfterCommit(this.db, 'accountRequests');
  }

  async complete(claim: AccountRequestClaim, now: Date): Promise<boolean> {
    const row = this.db.tables.accountRequests.get(claim.id);
    if (!row || row.processedAt !== null || row.claimId !== claim.claimId) return false;
    this.db.tables.accountRequests.set(claim.id, { ...row, processedAt: now, lockedUntil: null, sealedPayload: null, username: null });
    return true;
  }
}

/** The worker's side with the semantics of the SQL one: due, unleased requests oldest first; claim-checked updates. */
export class InMemoryAccountRequestQueue implements AccountRequestQueue {
  constructor(private readonly db: InMemoryDatabase) {}

  async claimDue(now: Date, limit: number, leaseUntil: Date): Promise<ClaimedAccountRequest[]> {
    const claimId = randomUUID();
    const rows = this.db.tables.accountRequests;
    const due = [...rows.values()]
      .filter((r) => r.processedAt === null && r.nextAttemptAt <= now && (r.lockedUntil === null || r.lockedUntil <= now))
      .sort((a, b) => a.nextAttemptAt.getTime() - b.nextAttemptAt.getTime() || a.createdAt.getTime() - b.createdAt.getTime())
      .slice(0, limit);
    return due.map((row) => {
      const claimed = { ...row, attempts: row.attempts + 1, lockedUntil: leaseUntil, claimId };
      rows.set(row.id, claimed);
      return { id: row.id, claimId, sealedPayload: row.sealedPayload, attempts: claimed.attempts, failures: row.failures, createdAt: row.createdAt };
    });
  }

  async markFailed(claim: AccountRequestClaim, error: string, nextAttemptAt: Date, ownFailure: boolean): Promise<void> {
    const row = this.held(claim);
    const failures = row ? row.failures + (ownFailure ? 1 : 0) : 0;
    if (row) this.db.tables.accountRequests.set(claim.id, { ...row, nextAttemptAt, lastError: error, lockedUntil: null, claimId: null, failures });
  }

  async release(claims: AccountRequestClaim[]): Promise<void> {
    for (const claim of claims) {
      const row = this.held(claim);
      if (row) this.db.tables.accountRequests.set(claim.id, { ...row, attempts: Math.max(0, row.attempts - 1), lockedUntil: null, claimId: null });
    }
  }

  async abandon(claim: AccountRequestClaim, error: string, now: Date): Promise<void> {
    const row = this.held(claim);
    if (row) {
      const given = { ...row, processedAt: now, lastError: error, lockedUntil: null, sealedPayload: null, username: null };
      this.db.tables.accountRequests.set(claim.id, given);
    }
  }

  private held(claim: AccountRequestClaim) {
    const row = this.db.tables.accountRequests.get(claim.id);
    return row && row.processedAt === null && row.claimId === claim.claimId ? row : null;
  }
}

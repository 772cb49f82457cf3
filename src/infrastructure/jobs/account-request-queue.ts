import { randomUUID } from 'node:crypto';
import type { AccountRequest, AccountRequestClaim, PendingAccountRequest } from '@application/ports/account-requests';
import type { ClientContext } from '@application/shared/client-context';
import { SEALED, type SecretBox } from '@application/ports/secret-box';

/**
 * A request as stored (table `account_requests`). Everything about the caller and the address is in the sealed
 * payload; `kind` stays readable for operating, `username` only while a registration is pending (it reserves the
 * name, a unique index) and the payload is cleared once processed.
 */
export interface AccountRequestRow {
  id: string;
  kind: AccountRequest['kind'];
  username: string | null;
  sealedPayload: string | null;
  createdAt: Date;
  /** Every claim (the backoff grows with it). */
  attempts: number;
  /** The failed attempts that were the request's own, outages not counted (the attempt limit counts these). */
  failures: number;
  nextAttemptAt: Date;
  lockedUntil: Date | null;
  claimId: string | null;
  processedAt: Date | null;
  /** The last processing error (a code and message, never the payload). */
  lastError: string | null;
}

export type ClaimedAccountRequest = AccountRequestClaim & Pick<AccountRequestRow, 'sealedPayload' | 'attempts' | 'failures' | 'createdAt'>;

/** The worker's view. Claims are leases: a crashed worker's requests come back when the lease ends. */
export interface AccountRequestQueue {
  /** Up to `limit` unprocessed requests due at `now` and not leased, leased to a new claim until `leaseUntil`; attempts + 1. */
  claimDue(now: Date, limit: number, leaseUntil: Date): Promise<ClaimedAccountRequest[]>;
  /**
   * Releases the claim and makes the request due again at `nextAttemptAt`; `ownFailure` (not an outage) adds one to
   * `failures`.
   */
  markFailed(claim: AccountRequestClaim, error: string, nextAttemptAt: Date, ownFailure: boolean): Promise<void>;
  /** Gives the request up: processed, payload forgotten (the username reservation ends), the error kept. */
  abandon(claim: AccountRequestClaim, error: string, now: Date): Promise<void>;
  /**
   * Hands back claimed requests that were not started (a stop): unleased, due as before, attempts - 1. Only the
   * current claim may; a processed request stays processed.
   */
  release(claims: AccountRequestClaim[]): Promise<void>;
}

interface Payload {
  request: AccountRequest;
  client: ClientContext;
}

export function newAccountRequestRow(box: SecretBox, request: AccountRequest, client: ClientContext, now: Date): AccountRequestRow {
  const payload: Payload = { request, client: { ip: client.ip, userAgent: client.userAgent, requestId: client.requestId ?? null } };
  const id = randomUUID();
  return {
    id,
    kind: request.kind,
    username: request.kind === 'registration' ? request.username : null,
    sealedPayload: box.seal(JSON.stringify(payload), SEALED.accountRequest(id)),
    createdAt: now,
    attempts: 0,
    failures: 0,
    nextAttemptAt: now,
    lockedUntil: null,
    claimId: null,
    processedAt: null,
    lastError: null,
  };
}

/** Throws when the payload is gone, was tampered with or was sealed under another key. */
export function openAccountRequest(box: SecretBox, claimed: ClaimedAccountRequest): PendingAccountRequest {
  if (claimed.sealedPayload === null) throw new Error('the request has no payload');
  const payload = JSON.parse(box.open(claimed.sealedPayload, SEALED.accountRequest(claimed.id))) as Payload;
  return { id: claimed.id, request: payload.request, client: payload.client, requestedAt: claimed.createdAt };
}

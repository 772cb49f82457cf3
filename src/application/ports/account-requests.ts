import type { ClientContext } from '../shared/client-context';

/**
 * What an anonymous caller asked for about an email address. The HTTP handler only records it (one INSERT,
 * the same for every address, so neither the answer nor its timing says whether the address has an account);
 * a background worker does the per-account work later. `email` is canonical; `passwordHash` is the argon2 PHC
 * string the account would store anyway (never the password).
 */
export type AccountRequest =
  | {
      kind: 'registration';
      email: string;
      passwordHash: string;
      username: string | null;
      firstName: string | null;
      lastName: string | null;
    }
  | { kind: 'password_reset'; email: string }
  | { kind: 'verification_resend'; email: string };

export interface PendingAccountRequest {
  id: string;
  request: AccountRequest;
  /** Who asked, for the audit entries the worker writes. */
  client: ClientContext;
  requestedAt: Date;
}

/** A worker's lease on a request: only the claim that holds it may complete it. */
export interface AccountRequestClaim {
  id: string;
  claimId: string;
}

/**
 * Durable account requests, part of `Repositories`. Stored sealed (SecretBox): the row holds an address, a
 * password hash and who asked, none of it readable at rest.
 */
export interface AccountRequests {
  /**
   * Records a request, to be processed after commit. A registration reserves its username while it is pending:
   * another pending registration with the same username throws DomainError USERNAME_TAKEN.
   */
  add(request: AccountRequest, client: ClientContext): Promise<void>;
  /**
   * Marks the claimed request processed and forgets its payload, inside the worker's transaction (so the work and
   * the mark commit together, and the row stays locked until then). False, and nothing to do, when the request is
   * already processed or another claim holds it (the lease ran out and another worker took it).
   */
  complete(claim: AccountRequestClaim, now: Date): Promise<boolean>;
}

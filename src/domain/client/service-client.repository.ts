import type { ServiceClient } from './service-client';

/**
 * Port for service clients. Every change is one atomic statement on one row (no read-modify-write), so no row
 * lock is needed (creation, deletion and secret replacement run in a unit of work only so that their audit entry
 * commits with them): `add` inserts, `delete` and `recordUse` are conditional UPDATEs whose outcome does not
 * depend on what was read before, and `replaceSecret` is a compare-and-set on the digest that was read. A token
 * request racing a deletion therefore either ran before it (and its token stops introspecting as active once the
 * deletion commits) or finds the client gone; one racing a secret replacement checks the digest again after
 * signing (IssueClientToken).
 */
export interface ServiceClientRepository {
  add(client: ServiceClient): Promise<void>;
  /** The client, deleted ones included (callers check `isActive()`); null for an unknown id. */
  findById(id: string): Promise<ServiceClient | null>;
  /** Clients not deleted, oldest first. */
  listActive(): Promise<ServiceClient[]>;
  /** Marks the client deleted; false when it was unknown or already deleted. */
  delete(id: string, now: Date): Promise<boolean>;
  /**
   * Stores `rotated`'s secret digest and token cut-off, only while the stored client is active and its digest is
   * still `expectedHash` (compare-and-set): false when it is unknown, deleted, or its secret was replaced since it
   * was read. Of two replacements that read the same digest, one changes the row and the other gets false.
   */
  replaceSecret(rotated: ServiceClient, expectedHash: string): Promise<boolean>;
  /**
   * Sets `last_used_at` of an active client to `now`, at most once a minute (a busy client does not turn
   * every token request into a write); a deleted or unknown client is left alone.
   */
  recordUse(id: string, now: Date): Promise<void>;
}

import type { Clock } from '@application/ports/clock';
import type { SecretBox } from '@application/ports/secret-box';

/** What the repositories need beyond a connection: the email outbox seals bodies and timestamps rows. */
export interface RepositoryOptions {
  secretBox: SecretBox;
  clock: Clock;
  /** Told when an email is queued; the unit of work wakes the sender once the transaction has committed. */
  onEmailQueued?: () => void;
  /** Told when an account request is recorded; the unit of work wakes the worker once the transaction has committed. */
  onAccountRequested?: () => void;
}

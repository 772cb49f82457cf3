import type { Clock } from '@application/ports/clock';
import type { SecretBox } from '@application/ports/secret-box';

/** What the repositories need beyond a connection: the email outbox seals bodies and timestamps rows. */
export interface RepositoryOptions {
  secretBox: SecretBox;
  clock: Clock;
}

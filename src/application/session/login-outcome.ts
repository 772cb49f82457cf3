import type { TokenPair } from '@domain/session/token-pair';
import { Email } from '@domain/user/email';
import type { User } from '@domain/user/user';
import type { UserRepository } from '@domain/user/user.repository';
import type { ClientContext } from '../shared/client-context';

/** What LoginWithPassword takes and answers, and how it finds the account an identifier names. */

export interface LoginInput {
  /** An email address or a username. */
  identifier: string;
  password: string;
  client: ClientContext;
}

/** Signed in: the password was enough (no second factor on the account). */
export interface SignedIn {
  mfaRequired: false;
  user: User;
  tokens: TokenPair;
}

/**
 * The password was right and the account has a second factor: no session yet. `mfaToken` (opaque, single use,
 * stored as a digest) names this pending login for the second step (/auth/mfa/verify).
 */
export interface MfaChallenge {
  mfaRequired: true;
  mfaToken: string;
  expiresInSeconds: number;
}

export type LoginOutcome = SignedIn | MfaChallenge;

/** An identifier with an `@` that is not one mailbox matches no account (never a 400: it answers as unknown). */
export async function findByIdentifier(users: UserRepository, identifier: string): Promise<User | null> {
  const canonical = Email.canonicalize(identifier);
  if (!canonical.includes('@')) return users.findByUsername(canonical);
  const email = Email.parse(identifier);
  return email ? users.findByEmail(email.value) : null;
}

import type { OneTimeToken, OneTimeTokenPurpose } from './one-time-token';

export interface OneTimeTokenRepository {
  add(token: OneTimeToken): Promise<void>;
  findByHash(purpose: OneTimeTokenPurpose, tokenHash: string): Promise<OneTimeToken | null>;
  /** Marks the token consumed if nobody did yet; true only for the one caller that won. */
  consume(id: string, now: Date): Promise<boolean>;
  /** Voids every unconsumed token of this purpose for the user (a newer one replaces them). */
  consumeAllFor(userId: string, purpose: OneTimeTokenPurpose, now: Date): Promise<void>;
  /**
   * Voids every unconsumed token of the user, whatever its purpose (a password reset or change, a global
   * logout: no link mailed before it may still act on the account).
   */
  consumeAllOfUser(userId: string, now: Date): Promise<void>;
}

import type { Credentials } from '@domain/user/credentials';
import { Password } from '@domain/user/password';
import type { PasswordHasher } from '../ports/password-hasher';

/** `normalized`: the hash is of the NFKC form. `as_typed`: of the raw form (made before 2026-12-01), to be rehashed. */
export type PasswordMatch = 'normalized' | 'as_typed' | 'none';

/**
 * Verifies a typed password against a stored hash in each of its forms (Password.candidates), stopping at the first
 * that matches. `hash` null (no account, or an account without a password): the same number of dummy verifies as a
 * wrong password costs, so neither is told apart by time, and 'none'.
 *
 * A refusal of the first check (the client gone before its turn, the hashing queue full or too slow) propagates: no
 * form was checked, so there is no verdict. Once one form has been checked, the verdict stands: the later forms run
 * even if the client has gone, and a refusal of one of them reads as 'none'. Otherwise (outside review, 2026-12-02)
 * a guess sent with one character in a form NFKC changes (`a` as fullwidth `ａ`) had its NFKC form checked first; a
 * right guess answered at once, and a wrong one could be cut off by hanging up while the second form waited for
 * the gate: checked, yet never counted by the lockout or the current-password guard.
 */
export async function matchPassword(hasher: PasswordHasher, hash: string | null, typed: string, signal?: AbortSignal): Promise<PasswordMatch> {
  const forms = Password.candidates(typed);
  for (const [index, form] of forms.entries()) {
    const first = index === 0;
    try {
      if (hash === null) await hasher.verifyDummy(form, first ? signal : undefined);
      else if (await hasher.verify(hash, form, first ? signal : undefined)) return first ? 'normalized' : 'as_typed';
    } catch (error) {
      if (first) throw error;
      return 'none';
    }
  }
  return 'none';
}

/**
 * Whether `fresh` (the account's credentials read again under its lock) still holds the password that was checked
 * against `checked` (a copy read before): the same hash, or the same password rehashed meanwhile. A rehash on login
 * (other hashing parameters, or a hash of the typed form) keeps the password's `changedAt`, and only then is the typed
 * password verified again, against the new hash. Until stop 51 any other hash read as "changed meanwhile": after
 * `ARGON2_*` was raised, parallel logins with the right password (two tabs, a retry) got 401 but the first, and a
 * password change or account deletion racing a login on another device answered "wrong password" (a review).
 */
export async function stillHoldsPassword(hasher: PasswordHasher, fresh: Credentials, checked: Credentials, typed: string, signal?: AbortSignal): Promise<boolean> {
  const hash = fresh.passwordHash;
  if (hash === null) return false;
  if (hash === checked.passwordHash) return true;
  if (fresh.passwordChangedAt?.getTime() !== checked.passwordChangedAt?.getTime()) return false;
  return (await matchPassword(hasher, hash, typed, signal)) !== 'none';
}

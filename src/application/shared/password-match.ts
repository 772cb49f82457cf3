import { Password } from '@domain/user/password';
import type { PasswordHasher } from '../ports/password-hasher';

/** `normalized`: the hash is of the NFKC form. `as_typed`: of the raw form (made before 2026-12-01), to be rehashed. */
export type PasswordMatch = 'normalized' | 'as_typed' | 'none';

/**
 * Verifies a typed password against a stored hash in each of its forms (Password.candidates), stopping at the first
 * that matches. `hash` null (no account, or an account without a password): the same number of dummy verifies as a
 * wrong password costs, so neither is told apart by time, and 'none'. A hasher refusal propagates (no verdict).
 */
export async function matchPassword(hasher: PasswordHasher, hash: string | null, typed: string, signal?: AbortSignal): Promise<PasswordMatch> {
  const forms = Password.candidates(typed);
  for (const [index, form] of forms.entries()) {
    if (hash === null) await hasher.verifyDummy(form, signal);
    else if (await hasher.verify(hash, form, signal)) return index === 0 ? 'normalized' : 'as_typed';
  }
  return 'none';
}

import { equalsConstantTime } from '../shared/constant-time';
import { DomainErrors } from '../shared/errors';
import type { Credentials } from './credentials';

/**
 * The rules of the second factor over a user's credentials; the User aggregate's MFA verbs call these and
 * record the events. MFA is enabled exactly when a confirmed TOTP credential exists: a pending one (set up,
 * no code confirmed yet) enables nothing. Recovery codes exist only beside a confirmed TOTP credential.
 */
export function isMfaEnabled(credentials: Credentials): boolean {
  return credentials.get('totp')?.confirmedAt != null;
}

/** A new pending secret; an earlier pending one is replaced (set-up started again). Refused once confirmed. */
export function beginTotpSetup(credentials: Credentials, sealedSecret: string, now: Date): Credentials {
  if (isMfaEnabled(credentials)) throw DomainErrors.mfaAlreadyEnabled();
  if (sealedSecret.length === 0) throw new Error('beginTotpSetup: the sealed secret is empty');
  return credentials.withCredential({ type: 'totp', sealedSecret, confirmedAt: null, createdAt: now });
}

/**
 * The pending secret becomes the account's second factor, with its first set of recovery codes. `step`: the
 * time step of the code that proved it, spent like any other (it cannot log in afterwards).
 */
export function confirmTotp(credentials: Credentials, codeHashes: readonly string[], now: Date, step?: number): Credentials {
  const totp = credentials.get('totp');
  if (totp === null) throw DomainErrors.noPendingTotpSetup();
  if (totp.confirmedAt !== null) throw DomainErrors.mfaAlreadyEnabled();
  const confirmed = step === undefined ? { ...totp, confirmedAt: now } : { ...totp, confirmedAt: now, lastUsedStep: step };
  return withCodes(credentials.withCredential(confirmed), codeHashes, now);
}

/**
 * Spends the time step of a code just verified against the secret: the result remembers it. null when the
 * step is not newer than the last one accepted (a replay, or an older code after a newer one), or without TOTP.
 */
export function useTotpStep(credentials: Credentials, step: number): Credentials | null {
  const totp = credentials.get('totp');
  if (totp === null || !Number.isSafeInteger(step)) return null;
  if (totp.lastUsedStep !== undefined && step <= totp.lastUsedStep) return null;
  return credentials.withCredential({ ...totp, lastUsedStep: step });
}

/** A new set of recovery codes; the old set is void. Only while MFA is enabled. */
export function replaceRecoveryCodes(credentials: Credentials, codeHashes: readonly string[], now: Date): Credentials {
  if (!isMfaEnabled(credentials)) throw DomainErrors.mfaNotEnabled();
  return withCodes(credentials, codeHashes, now);
}

/**
 * Spends one recovery code: the result no longer holds it, and remembers it as spent. null when the hash is not
 * among the codes left (or MFA is off). Every stored hash is compared, in constant time, whichever matches.
 */
export function useRecoveryCode(credentials: Credentials, codeHash: string): Credentials | null {
  const codes = credentials.get('recovery_codes');
  if (codes === null || !isMfaEnabled(credentials)) return null;
  const found = indexOf(codes.codeHashes, codeHash);
  if (found === -1) return null;
  return credentials.withCredential({
    ...codes,
    codeHashes: codes.codeHashes.filter((_, index) => index !== found),
    spentHashes: [...(codes.spentHashes ?? []), codes.codeHashes[found] as string],
  });
}

/**
 * Whether this hash is a code of the current set that was spent already: sent again, it is a replay (it was right;
 * no guess), not a wrong code. False with MFA off or after the set was replaced (its codes are then simply wrong).
 */
export function isSpentRecoveryCode(credentials: Credentials, codeHash: string): boolean {
  const codes = credentials.get('recovery_codes');
  if (codes === null || !isMfaEnabled(credentials)) return false;
  return indexOf(codes.spentHashes ?? [], codeHash) !== -1;
}

/** Whether this hash is one of the codes left (MFA on); compared as useRecoveryCode compares. */
export function holdsRecoveryCode(credentials: Credentials, codeHash: string): boolean {
  const codes = credentials.get('recovery_codes');
  return codes !== null && isMfaEnabled(credentials) && indexOf(codes.codeHashes, codeHash) !== -1;
}

/** The first index holding `hash`, or -1; every entry is compared in constant time, whichever matches. */
function indexOf(hashes: readonly string[], hash: string): number {
  let found = -1;
  hashes.forEach((stored, index) => {
    if (equalsConstantTime(stored, hash) && found === -1) found = index;
  });
  return found;
}

/**
 * Whether `after` holds another set of recovery codes than `before`: replaced (regenerated, or MFA turned off and on
 * again), not merely spent from (a used code leaves the rest of the same set, with its creation time).
 */
export function recoveryCodesReplaced(before: Credentials, after: Credentials): boolean {
  const was = before.get('recovery_codes');
  const is = after.get('recovery_codes');
  if (was === null || is === null) return was !== is;
  return was.createdAt.getTime() !== is.createdAt.getTime() || is.codeHashes.some((hash) => !was.codeHashes.includes(hash));
}

export function recoveryCodesLeft(credentials: Credentials): number {
  return isMfaEnabled(credentials) ? (credentials.get('recovery_codes')?.codeHashes.length ?? 0) : 0;
}

function withCodes(credentials: Credentials, codeHashes: readonly string[], now: Date): Credentials {
  if (codeHashes.length === 0) throw new Error('recovery codes: at least one hash is needed');
  if (codeHashes.some((hash) => hash.length === 0)) throw new Error('recovery codes: a hash is empty');
  if (new Set(codeHashes).size !== codeHashes.length) throw new Error('recovery codes: the hashes are not distinct');
  return credentials.withCredential({ type: 'recovery_codes', codeHashes: [...codeHashes], createdAt: now });
}

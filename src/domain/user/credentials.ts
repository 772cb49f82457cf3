/**
 * What proves a user's identity, keyed by type: at most one credential of each type. Only `password` is
 * issued so far; `totp` and `recovery_codes` are the shapes the MFA feature fills in. Immutable: verbs return a
 * new value. Never holds a usable secret: a password is a PHC hash, a TOTP secret is sealed (encrypted by the
 * SecretBox port), recovery codes are keyed hashes.
 *
 * The failure bookkeeping (consecutive failed logins, the last lock) lives here, beside the credentials and not
 * in any one of them: a failure counts for the account whatever factor failed (a wrong password now, a wrong
 * TOTP code later), and a successful login clears it.
 */
export type CredentialType = 'password' | 'totp' | 'recovery_codes';

export const CREDENTIAL_TYPES: readonly CredentialType[] = ['password', 'totp', 'recovery_codes'];

export interface PasswordCredential {
  readonly type: 'password';
  /** Argon2id PHC string. */
  readonly hash: string;
  readonly changedAt: Date;
}

/** MFA: a TOTP secret, pending until a first code confirms it. */
export interface TotpCredential {
  readonly type: 'totp';
  /** The secret encrypted by the SecretBox port; never stored or logged in plain form. */
  readonly sealedSecret: string;
  /** null while pending (set up, not yet enabled). */
  readonly confirmedAt: Date | null;
  readonly createdAt: Date;
  /**
   * RFC 6238 section 5.2: the newest time step a code was accepted for. A code of this step or an earlier one is
   * refused, so a code works once even when two instances see it at the same moment (the row is locked).
   * Absent until a first code is accepted.
   */
  readonly lastUsedStep?: number;
}

/** MFA: the current set of single-use recovery codes, as keyed hashes (HMAC); a used one is removed. */
export interface RecoveryCodesCredential {
  readonly type: 'recovery_codes';
  readonly codeHashes: readonly string[];
  readonly createdAt: Date;
  /**
   * The hashes of this set's codes spent so far (at most the set's size; a new set starts without), so that a spent
   * code sent again (a retry, a double click, duplicates racing each other) is told from one never issued: a
   * replay, refused without counting toward the lockout, as a TOTP code of a spent step. Absent until a first use.
   */
  readonly spentHashes?: readonly string[];
}

export type Credential = PasswordCredential | TotpCredential | RecoveryCodesCredential;
export type CredentialOf<T extends CredentialType> = Extract<Credential, { type: T }>;
/** At most one credential per type, by construction. */
export type CredentialsByType = { [T in CredentialType]?: CredentialOf<T> };

export interface CredentialsState {
  byType: CredentialsByType;
  failedAttempts: number;
  lockedUntil: Date | null;
}

export class Credentials {
  private constructor(private readonly state: CredentialsState) {}

  /** A new account's credentials: its password, no failures. */
  static create(passwordHash: string, now: Date): Credentials {
    return new Credentials({ byType: { password: { type: 'password', hash: passwordHash, changedAt: now } }, failedAttempts: 0, lockedUntil: null });
  }

  /** An invited account's: no credential until the invitation link sets a password. */
  static none(): Credentials {
    return new Credentials({ byType: {}, failedAttempts: 0, lockedUntil: null });
  }

  static restore(state: CredentialsState): Credentials {
    return new Credentials(copy(state));
  }

  get<T extends CredentialType>(type: T): CredentialOf<T> | null {
    return (this.state.byType[type] as CredentialOf<T> | undefined) ?? null;
  }

  has(type: CredentialType): boolean {
    return this.state.byType[type] !== undefined;
  }

  /** Every credential, in the order of CREDENTIAL_TYPES. */
  list(): Credential[] {
    return CREDENTIAL_TYPES.flatMap((type) => this.get(type) ?? []);
  }

  get password(): PasswordCredential | null {
    return this.get('password');
  }
  /** null for an account without a password (e.g. invited, not yet set): no password matches it. */
  get passwordHash(): string | null {
    return this.password?.hash ?? null;
  }
  get passwordChangedAt(): Date | null {
    return this.password?.changedAt ?? null;
  }
  get failedAttempts(): number {
    return this.state.failedAttempts;
  }
  get lockedUntil(): Date | null {
    return this.state.lockedUntil;
  }

  withFailure(): Credentials {
    return new Credentials({ ...copy(this.state), failedAttempts: this.state.failedAttempts + 1 });
  }

  withLock(lockedUntil: Date): Credentials {
    return new Credentials({ ...copy(this.state), lockedUntil });
  }

  withSuccess(): Credentials {
    return new Credentials({ ...copy(this.state), failedAttempts: 0, lockedUntil: null });
  }

  /** The recorded lock cleared, the failure count kept (the lockout store's lock ended without a full login). */
  withoutLock(): Credentials {
    if (this.state.lockedUntil === null) return this;
    return new Credentials({ ...copy(this.state), lockedUntil: null });
  }

  /** The recorded lock's end while it is still ahead of `now`, else null (no lock, or one that has ended). */
  lockedUntilAt(now: Date): Date | null {
    const until = this.state.lockedUntil;
    return until !== null && until.getTime() > now.getTime() ? until : null;
  }

  /** Same password, stronger parameters: not a password change, so changedAt stays. No password: unchanged. */
  rehashed(passwordHash: string): Credentials {
    const current = this.password;
    if (!current) return this;
    return this.with({ ...current, hash: passwordHash });
  }

  /**
   * A new password (change, reset): failures start afresh (they were guesses at the old one). The recorded lock
   * stays: it mirrors the lockout store, which a reset clears (User.resetPassword clears this too) and a change
   * does not, so that the admin view never shows `active` while the login form answers 429.
   */
  changed(passwordHash: string, now: Date): Credentials {
    const next = this.with({ type: 'password', hash: passwordHash, changedAt: now });
    return new Credentials({ ...next.state, failedAttempts: 0 });
  }

  /** Adds or replaces the credential of its type (MFA's verbs keep their invariants in `mfa.ts`). */
  withCredential(credential: TotpCredential | RecoveryCodesCredential): Credentials {
    return this.with(credential);
  }

  /** Without the credentials of these types; the same value when it had none of them. */
  without(...types: CredentialType[]): Credentials {
    if (!types.some((type) => this.has(type))) return this;
    const state = copy(this.state);
    const byType: CredentialsByType = { ...state.byType };
    for (const type of types) delete byType[type];
    return new Credentials({ ...state, byType });
  }

  toState(): CredentialsState {
    return copy(this.state);
  }

  private with(credential: Credential): Credentials {
    const state = copy(this.state);
    return new Credentials({ ...state, byType: { ...state.byType, [credential.type]: credential } });
  }
}

function copy(state: CredentialsState): CredentialsState {
  const byType: CredentialsByType = {};
  for (const type of CREDENTIAL_TYPES) {
    const credential = state.byType[type];
    if (credential !== undefined) Object.assign(byType, { [type]: copyCredential(credential) });
  }
  return { byType, failedAttempts: state.failedAttempts, lockedUntil: state.lockedUntil };
}

function copyCredential(credential: Credential): Credential {
  switch (credential.type) {
    case 'password':
      return { ...credential };
    case 'totp':
      return { ...credential };
    case 'recovery_codes':
      return credential.spentHashes === undefined
        ? { ...credential, codeHashes: [...credential.codeHashes] }
        : { ...credential, codeHashes: [...credential.codeHashes], spentHashes: [...credential.spentHashes] };
  }
}

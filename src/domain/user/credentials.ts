/** What proves a user's identity: the argon2 PHC string and the failure bookkeeping. Immutable; verbs return a new value. */
export interface CredentialsState {
  passwordHash: string;
  failedAttempts: number;
  lockedUntil: Date | null;
  passwordChangedAt: Date;
}

export class Credentials {
  private constructor(private readonly state: CredentialsState) {}

  static create(passwordHash: string, now: Date): Credentials {
    return new Credentials({ passwordHash, failedAttempts: 0, lockedUntil: null, passwordChangedAt: now });
  }

  static restore(state: CredentialsState): Credentials {
    return new Credentials({ ...state });
  }

  get passwordHash(): string {
    return this.state.passwordHash;
  }
  get failedAttempts(): number {
    return this.state.failedAttempts;
  }
  get lockedUntil(): Date | null {
    return this.state.lockedUntil;
  }
  get passwordChangedAt(): Date {
    return this.state.passwordChangedAt;
  }

  withFailure(): Credentials {
    return new Credentials({ ...this.state, failedAttempts: this.state.failedAttempts + 1 });
  }

  withLock(lockedUntil: Date): Credentials {
    return new Credentials({ ...this.state, lockedUntil });
  }

  withSuccess(): Credentials {
    return new Credentials({ ...this.state, failedAttempts: 0, lockedUntil: null });
  }

  /** Same password, stronger parameters: not a password change, so passwordChangedAt stays. */
  rehashed(passwordHash: string): Credentials {
    return new Credentials({ ...this.state, passwordHash });
  }

  changed(passwordHash: string, now: Date): Credentials {
    return new Credentials({ passwordHash, failedAttempts: 0, lockedUntil: null, passwordChangedAt: now });
  }

  toState(): CredentialsState {
    return { ...this.state };
  }
}

import { AggregateRoot } from '../shared/domain-event';
import { DomainError } from '../shared/domain-error';
import { Credentials, type CredentialsState } from './credentials';
import { Email } from './email';
import { Username } from './username';
import { UserId } from './user-id';

export type UserStatus = 'pending_verification' | 'active' | 'locked' | 'suspended';

export interface UserState {
  id: string;
  email: string;
  username: string | null;
  firstName: string | null;
  lastName: string | null;
  status: UserStatus;
  emailVerified: boolean;
  roles: string[];
  mfaEnabled: boolean;
  credentials: CredentialsState;
  createdAt: Date;
  updatedAt: Date;
  lastLoginAt: Date | null;
}

export interface NewUser {
  id: UserId;
  email: Email;
  username: Username | null;
  firstName: string | null;
  lastName: string | null;
  passwordHash: string;
  emailVerified: boolean;
}

export class User extends AggregateRoot {
  private constructor(private state: Omit<UserState, 'credentials'>, private creds: Credentials) {
    super();
  }

  static register(input: NewUser, now: Date): User {
    const user = new User(
      {
        id: input.id.value,
        email: input.email.value,
        username: input.username?.value ?? null,
        firstName: input.firstName,
        lastName: input.lastName,
        status: input.emailVerified ? 'active' : 'pending_verification',
        emailVerified: input.emailVerified,
        roles: ['user'],
        mfaEnabled: false,
        createdAt: now,
        updatedAt: now,
        lastLoginAt: null,
      },
      Credentials.create(input.passwordHash, now),
    );
    user.record('auth.user.registered', user.id, now, {
      user_id: user.id,
      email: user.email,
      username: user.username,
      email_verified: user.emailVerified,
    });
    return user;
  }

  static restore(state: UserState): User {
    const { credentials, ...rest } = state;
    return new User({ ...rest, roles: [...rest.roles] }, Credentials.restore(credentials));
  }

  get id(): string {
    return this.state.id;
  }
  get email(): string {
    return this.state.email;
  }
  get username(): string | null {
    return this.state.username;
  }
  get status(): UserStatus {
    return this.state.status;
  }
  get emailVerified(): boolean {
    return this.state.emailVerified;
  }
  get roles(): readonly string[] {
    return this.state.roles;
  }
  get credentials(): Credentials {
    return this.creds;
  }

  /** Whether this account may be used now; throws the stable error a login must answer with. */
  assertCanAuthenticate(requireEmailVerification: boolean): void {
    if (this.state.status === 'suspended') {
      throw new DomainError('ACCOUNT_DISABLED', 'This account has been disabled.');
    }
    if (requireEmailVerification && !this.state.emailVerified) {
      throw new DomainError('EMAIL_NOT_VERIFIED', 'The email address has not been verified yet.');
    }
  }

  /** Whether tokens already issued for this account still count (revocation by account status). */
  isUsable(requireEmailVerification: boolean): boolean {
    if (this.state.status === 'suspended') return false;
    return !requireEmailVerification || this.state.emailVerified;
  }

  verifyEmail(now: Date): void {
    if (this.state.emailVerified) return;
    this.state.emailVerified = true;
    if (this.state.status === 'pending_verification') this.state.status = 'active';
    this.touch(now);
    this.record('auth.user.email_verified', this.id, now, { user_id: this.id, email: this.email });
  }

  recordSuccessfulLogin(now: Date, sessionId: string, amr: string[]): void {
    this.creds = this.creds.withSuccess();
    this.state.lastLoginAt = now;
    this.record('auth.user.logged_in', this.id, now, { user_id: this.id, session_id: sessionId, amr });
  }

  /** The reason is for the audit trail and events only; the caller answers every failure the same way. */
  recordFailedLogin(now: Date, reason: string): void {
    this.creds = this.creds.withFailure();
    this.record('auth.user.login_failed', this.id, now, {
      user_id: this.id,
      reason,
      failed_attempts: this.creds.failedAttempts,
    });
  }

  rehashPassword(passwordHash: string): void {
    this.creds = this.creds.rehashed(passwordHash);
  }

  toState(): UserState {
    return { ...this.state, roles: [...this.state.roles], credentials: this.creds.toState() };
  }

  private touch(now: Date): void {
    this.state.updatedAt = now;
  }
}

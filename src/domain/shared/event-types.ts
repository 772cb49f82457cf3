/**
 * The one catalogue of event types (CONTRACT §6) and the `data` each carries; docs/events.md is its human
 * version. Producers record events through AggregateRoot.record, typed by this catalogue (an unknown type or a
 * payload of the wrong shape does not compile); subscribers bind and match the same constants. Every payload
 * is primitives only, carries `user_id` (= the CloudEvent subject), never a password, hash, token or secret.
 */
export const EventTypes = {
  UserRegistered: 'auth.user.registered',
  UserEmailVerified: 'auth.user.email_verified',
  UserLoggedIn: 'auth.user.logged_in',
  UserLoginFailed: 'auth.user.login_failed',
  AccountLocked: 'auth.account.locked',
  PasswordResetRequested: 'auth.password.reset_requested',
  PasswordReset: 'auth.password.reset',
  CredentialsUpdated: 'auth.credentials.updated',
  SessionRevoked: 'auth.session.revoked',
  SessionRefreshReuseDetected: 'auth.session.refresh_reuse_detected',
  UserUpdated: 'auth.user.updated',
  UserDeleted: 'auth.user.deleted',
  UserStatusChanged: 'auth.user.status_changed',
  UserRolesChanged: 'auth.user.roles_changed',
  MfaEnabled: 'auth.mfa.enabled',
  MfaDisabled: 'auth.mfa.disabled',
} as const;

export type EventType = (typeof EventTypes)[keyof typeof EventTypes];

export const EVENT_TYPES: readonly EventType[] = Object.values(EventTypes);

export function isEventType(value: string): value is EventType {
  return (EVENT_TYPES as readonly string[]).includes(value);
}

/** Object types, not interfaces: they must stay assignable to EventData (an index signature). */
type AboutUser = { user_id: string };

/** What `auth.credentials.updated` may name as changed: never the values. */
export type ChangedCredential = 'password' | 'username' | 'email';
/**
 * Which step's failures locked sign-in (`auth.account.locked`): `password` (anyone who types the address can cause
 * it), or `second_factor`: wrong codes after a right password, so someone knows the password.
 */
export type LockedFactor = 'password' | 'second_factor';
/** Why `auth.user.login_failed`: a wrong password, or a wrong second-step code after the right password. */
export type LoginFailureReason = 'wrong_password' | 'wrong_mfa_code';
/** What `auth.user.updated` may name as changed (API field names). */
export type ChangedProfileField = 'username' | 'first_name' | 'last_name';

export type EventPayloads = {
  'auth.user.registered': AboutUser & { email: string; username: string | null; email_verified: boolean };
  'auth.user.email_verified': AboutUser & { email: string };
  'auth.user.logged_in': AboutUser & { session_id: string; amr: string[] };
  'auth.user.login_failed': AboutUser & { reason: LoginFailureReason; failed_attempts: number };
  /** `locked_until`: ISO 8601 UTC. */
  'auth.account.locked': AboutUser & { locked_until: string; factor: LockedFactor };
  'auth.password.reset_requested': AboutUser;
  'auth.password.reset': AboutUser;
  'auth.credentials.updated': AboutUser & { changed: ChangedCredential[] };
  'auth.session.revoked': AboutUser & { session_id: string; reason: string };
  'auth.session.refresh_reuse_detected': AboutUser & { session_id: string };
  'auth.user.updated': AboutUser & { changed: ChangedProfileField[] };
  'auth.user.deleted': AboutUser;
  /** Admin API: `status` is `active`, `pending_verification` or `suspended`; `actor_id` the admin who changed it. */
  'auth.user.status_changed': AboutUser & { status: string; previous_status: string; actor_id: string };
  /** Admin API: `actor_id` the admin (or the CLI's `create-admin`: the user's own id) who changed them. */
  'auth.user.roles_changed': AboutUser & { roles: string[]; previous_roles: string[]; actor_id: string };
  /** TOTP turned on. */
  'auth.mfa.enabled': AboutUser & { method: 'totp' };
  /** The second factor removed. `actor_id`: who disabled it, the user themself or an admin (support). */
  'auth.mfa.disabled': AboutUser & { method: 'totp'; actor_id: string };
};

export type EventPayload<T extends EventType> = EventPayloads[T];

/** What the audit trail records (issue: abuse resistance). Never a password, token or secret. */
export type AuditEventType =
  | 'login.succeeded'
  | 'login.failed'
  | 'account.locked'
  | 'email.verified'
  | 'password.reset_requested'
  | 'password.reset'
  | 'password.changed'
  | 'session.revoked'
  | 'refresh_token.reuse_detected'
  | 'account.deleted'
  | 'credentials.updated'
  | 'profile.updated'
  | 'user.registered'
  | 'mfa.challenge_issued'
  | 'mfa.setup_started'
  | 'mfa.enabled'
  | 'mfa.disabled'
  | 'mfa.recovery_codes_regenerated'
  | 'mfa.recovery_code_used'
  | 'user.invited'
  | 'user.status_changed'
  | 'user.roles_changed'
  | 'account.unlocked'
  /**
   * A service client registered, deleted or given a new secret (CLI): subject the client's id, the client's name in
   * the reason (after `tokens_revoked` when a rotation cut off the earlier tokens).
   */
  | 'client.created'
  | 'client.deleted'
  | 'client.secret_rotated'
  /**
   * The signing keys rotated (CLI `rotate-keys`) or a retired key withdrawn (`withdraw-key`), in the transaction of
   * the key writes: no actor, no subject (a kid is no user id); the kids in the reason (signing-key-audit.ts).
   */
  | 'signing_key.rotated'
  | 'signing_key.withdrawn'
  /** An admin route refused its caller (RecordAdminRefusal). */
  | 'admin.refused';

export interface AuditEntry {
  type: AuditEventType;
  outcome: 'success' | 'failure';
  /** Who acted (the user themself, an admin), when known. */
  actorId: string | null;
  /** Whom it concerns (a user id), when known. */
  subjectId: string | null;
  /** For the log only, never for a response: e.g. 'wrong_password', 'unknown_account', 'locked'. */
  reason: string | null;
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
  occurredAt: Date;
}

/** Append-only; written through the unit of work, in the same transaction as the change it records. */
export interface AuditLog {
  record(entry: AuditEntry): Promise<void>;
}

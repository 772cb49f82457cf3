/**
 * Object mothers: valid aggregates and rows with unique identities, built through the domain's own factories
 * (never by writing state), so a test names only what it is about: `aUser({ username: null })`,
 * `aSession(user.id, { now })`, `aOneTimeToken(user.id, { purpose: 'password_reset' })`.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { AuditEntry } from '@application/ports/audit-log';
import type { SigningKeyRecord } from '@application/ports/signing-keys';
import { Session, type NewSession, type SessionLifetimes } from '@domain/session/session';
import type { OneTimeToken, OneTimeTokenPurpose } from '@domain/token/one-time-token';
import { Email } from '@domain/user/email';
import { User } from '@domain/user/user';
import { UserId } from '@domain/user/user-id';
import { Username } from '@domain/user/username';

/** The instant the mothers use when a test gives none; millisecond precision survives a timestamptz round trip. */
export const T0 = new Date('2026-01-02T03:04:05.678Z');

export const LIFETIMES: SessionLifetimes = { idleSeconds: 30 * 86400, absoluteSeconds: 90 * 86400 };

/** A PHC string of the shape argon2id stores (no password verifies against it). */
export const A_PASSWORD_HASH = '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g';

export function at(iso: string): Date {
  return new Date(iso);
}

export function uniqueSuffix(): string {
  return randomBytes(5).toString('hex');
}

export function aTokenHash(): string {
  return randomBytes(32).toString('base64url');
}

export interface UserOverrides {
  id?: string;
  email?: string;
  /** `null`: no username; default a unique one. */
  username?: string | null;
  firstName?: string | null;
  lastName?: string | null;
  passwordHash?: string;
  emailVerified?: boolean;
  now?: Date;
}

/** A newly registered user, pending verification, with a unique email and username; its registration event recorded. */
export function aUser(overrides: UserOverrides = {}): User {
  const suffix = uniqueSuffix();
  const username = overrides.username === undefined ? `user_${suffix}` : overrides.username;
  return User.register(
    {
      id: UserId.create(overrides.id ?? randomUUID()),
      email: Email.create(overrides.email ?? `person.${suffix}@example.com`),
      username: username === null ? null : Username.create(username),
      firstName: overrides.firstName === undefined ? 'Ada' : overrides.firstName,
      lastName: overrides.lastName ?? null,
      passwordHash: overrides.passwordHash ?? A_PASSWORD_HASH,
      emailVerified: overrides.emailVerified ?? false,
    },
    overrides.now ?? T0,
  );
}

/** A user registered with a verified email: active. */
export function aVerifiedUser(overrides: Omit<UserOverrides, 'emailVerified'> = {}): User {
  return aUser({ ...overrides, emailVerified: true });
}

export interface SessionOverrides extends Partial<Omit<NewSession, 'userId'>> {
  now?: Date;
  lifetimes?: SessionLifetimes;
}

/** A session of `userId` just started with a password login at `now` (default T0), with a unique token hash. */
export function aSession(userId: string, overrides: SessionOverrides = {}): Session {
  const { now = T0, lifetimes = LIFETIMES, ...fields } = overrides;
  return Session.start(
    {
      id: randomUUID(),
      userId,
      refreshTokenHash: aTokenHash(),
      sealedRefreshToken: `sealed-${uniqueSuffix()}`,
      amr: ['pwd'],
      ip: '203.0.113.7',
      userAgent: 'jest',
      ...fields,
    },
    now,
    lifetimes,
  );
}

/** Rotates `session` to a fresh token hash at `now`; returns the new hash. */
export function rotated(session: Session, now: Date, lifetimes = LIFETIMES): string {
  const next = aTokenHash();
  session.rotate({ refreshTokenHash: next, sealedRefreshToken: `sealed-${next}` }, now, lifetimes);
  return next;
}

export interface OneTimeTokenOverrides extends Partial<Omit<OneTimeToken, 'userId'>> {
  now?: Date;
}

/** An unconsumed email-verification token of `userId` created at `now` (default T0), valid for an hour. */
export function aOneTimeToken(userId: string, overrides: OneTimeTokenOverrides = {}): OneTimeToken {
  const { now = T0, ...fields } = overrides;
  const purpose: OneTimeTokenPurpose = fields.purpose ?? 'email_verification';
  return {
    id: randomUUID(),
    userId,
    purpose,
    tokenHash: aTokenHash(),
    createdAt: now,
    expiresAt: new Date(now.getTime() + 3600_000),
    consumedAt: null,
    ...fields,
  };
}

/** A signing key as stored, `next` by default, with a unique kid. */
export function aSigningKey(createdAt: Date, overrides: Partial<SigningKeyRecord> = {}): SigningKeyRecord {
  return {
    kid: `kid-${uniqueSuffix()}`,
    alg: 'EdDSA',
    publicJwk: { kty: 'OKP', crv: 'Ed25519', x: `x-${uniqueSuffix()}` },
    sealedPrivateKey: `v1.sealed.${uniqueSuffix()}`,
    status: 'next',
    createdAt,
    activatedAt: null,
    retiredAt: null,
    maxTokenTtlSeconds: 900,
    ...overrides,
  };
}

/** A failed login of an account, as the audit trail records it. */
export function anAuditEntry(overrides: Partial<AuditEntry> = {}): AuditEntry {
  return {
    type: 'login.failed',
    outcome: 'failure',
    actorId: null,
    subjectId: randomUUID(),
    reason: 'wrong_password',
    ip: '203.0.113.9',
    userAgent: 'curl/8',
    requestId: `req-${uniqueSuffix()}`,
    occurredAt: at('2026-03-01T12:00:00.000Z'),
    ...overrides,
  };
}

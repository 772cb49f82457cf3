import { randomBytes, randomUUID } from 'node:crypto';
import { Session, type SessionLifetimes } from '@domain/session/session';
import type { OneTimeToken, OneTimeTokenPurpose } from '@domain/token/one-time-token';
import { Email } from '@domain/user/email';
import { User } from '@domain/user/user';
import { UserId } from '@domain/user/user-id';
import { Username } from '@domain/user/username';

export const lifetimes: SessionLifetimes = { idleSeconds: 30 * 86400, absoluteSeconds: 90 * 86400 };

/** Millisecond precision, like timestamptz round trips (microseconds, but JS Dates carry milliseconds). */
export function at(iso: string): Date {
  return new Date(iso);
}

export function uniqueSuffix(): string {
  return randomBytes(5).toString('hex');
}

export function aUser(overrides: { email?: string; username?: string | null; now?: Date } = {}): User {
  const suffix = uniqueSuffix();
  const username = overrides.username === undefined ? `user_${suffix}` : overrides.username;
  return User.register(
    {
      id: UserId.create(randomUUID()),
      email: Email.create(overrides.email ?? `person.${suffix}@example.com`),
      username: username === null ? null : Username.create(username),
      firstName: 'Ada',
      lastName: null,
      passwordHash: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g',
      emailVerified: false,
    },
    overrides.now ?? at('2026-01-02T03:04:05.678Z'),
  );
}

export function aTokenHash(): string {
  return randomBytes(32).toString('base64url');
}

export function aSession(userId: string, now = at('2026-01-02T03:04:05.678Z')): Session {
  return Session.start(
    {
      id: randomUUID(),
      userId,
      refreshTokenHash: aTokenHash(),
      sealedRefreshToken: `sealed-${uniqueSuffix()}`,
      amr: ['pwd'],
      ip: '203.0.113.7',
      userAgent: 'jest',
    },
    now,
    lifetimes,
  );
}

export function aOneTimeToken(userId: string, purpose: OneTimeTokenPurpose, now: Date): OneTimeToken {
  return {
    id: randomUUID(),
    userId,
    purpose,
    tokenHash: aTokenHash(),
    createdAt: now,
    expiresAt: new Date(now.getTime() + 3600_000),
    consumedAt: null,
  };
}

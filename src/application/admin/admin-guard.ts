import type { User } from '@domain/user/user';
import type { AuditEntry, AuditEventType } from '../ports/audit-log';
import type { Clock } from '../ports/clock';
import type { Repositories } from '../ports/unit-of-work';
import type { ClientContext } from '../shared/client-context';
import { assertAskingSessionActive } from '../shared/asking-session';
import { Errors } from '../shared/errors';

/** Who acts through the admin API and from where: the audit trail's actor. */
export interface AdminActor {
  id: string;
  /** The session of the actor's access token (`sid`): it must still be active when the change is made. */
  sessionId: string;
  client: ClientContext;
}

/**
 * First step of every admin change, before any other lock (users in id order, then the target, then sessions):
 * locks every active admin row and checks that the actor is still one of them. The route's guard read the
 * actor's roles and status at the start of the request; this re-reads them under the lock, so a demotion or
 * suspension that committed meanwhile bites at once.
 *
 * Why it is enough against "two admins demote each other": both transactions lock the same set in the same
 * order, so one waits for the other; once granted, the waiter's set no longer holds the admin the first one
 * removed (PostgreSQL re-checks the WHERE of a row changed meanwhile). If that admin was the waiter itself, it
 * is refused here (FORBIDDEN); otherwise assertMayRemoveAdmin counts the set as it is now.
 * The actor's session is checked under the same locks (its row's lock is among them): a logout or revocation that
 * committed since the token was checked refuses the change (INVALID_TOKEN), as the same request a moment later.
 */
export async function lockAdmins(repos: Repositories, actor: AdminActor, now: Date): Promise<ReadonlySet<string>> {
  const admins = new Set(await repos.users.lockActiveAdmins());
  if (!admins.has(actor.id)) throw Errors.noLongerAdmin();
  await assertAskingSessionActive(repos, { userId: actor.id, sessionId: actor.sessionId }, now);
  return admins;
}

/** The target stops being an active admin: not by the actor on themself, and never the last one. */
export function assertMayRemoveAdmin(admins: ReadonlySet<string>, actorId: string, target: User): void {
  if (target.id === actorId) throw Errors.adminSelfAction();
  const remaining = [...admins].filter((id) => id !== target.id).length;
  if (remaining < 1) throw Errors.lastActiveAdmin();
}

/**
 * The first steps of an admin's change on another account: the admins locked (lockAdmins), then the account
 * (lockedUser, NOT_FOUND if gone), and the change's time read once both are held, so that a change that committed
 * during the wait comes before this one in time as well as in order (an outside review, 2026-12-07: the time was
 * read before the wait). UpdateUser takes the same steps itself, as it fences refreshes before it reads the time.
 */
export async function lockForAdminChange(repos: Repositories, actor: AdminActor, userId: string, clock: Clock): Promise<{ admins: ReadonlySet<string>; user: User; now: Date }> {
  const admins = await lockAdmins(repos, actor, clock.now());
  const user = await lockedUser(repos, userId);
  return { admins, user, now: clock.now() };
}

/** The user read and locked, or NOT_FOUND. */
export async function lockedUser(repos: Repositories, userId: string): Promise<User> {
  const user = await repos.users.findByIdForUpdate(userId);
  if (!user) throw Errors.userNotFound();
  return user;
}

/** An audit entry about an admin acting on another account (or on a new one). */
export function adminAuditEntry(type: AuditEventType, actor: AdminActor, subjectId: string, now: Date, reason: string | null = null): AuditEntry {
  return {
    type,
    outcome: 'success',
    actorId: actor.id,
    subjectId,
    reason,
    ip: actor.client.ip,
    userAgent: actor.client.userAgent,
    requestId: actor.client.requestId ?? null,
    occurredAt: now,
  };
}

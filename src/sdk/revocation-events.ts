import type { RevocationList } from './revocation-list';

/**
 * What a revocation event means for a RevocationList: the event types the feed binds and how one delivery is read
 * (defensively) and applied. Kept apart from the feed's connection handling (revocation-feed.ts) so that it needs
 * no broker to be read or tested.
 */

/** The event types the feed binds (CONTRACT §6); every other type is ignored. */
export const REVOCATION_EVENT_TYPES = [
  'auth.session.revoked',
  'auth.session.refresh_reuse_detected',
  'auth.user.deleted',
  'auth.user.status_changed',
  'auth.user.roles_changed',
] as const;

/**
 * One delivery's effect on the list: a revoked session (logout, reuse, ...), a deleted user, a user suspended
 * (status anything but active) or stripped of a role: that user's earlier tokens. Re-activation lifts nothing,
 * as nothing needs lifting: the cut-off refuses only tokens issued before the suspension. Returns whether the
 * event was one of these; anything else (other types, malformed bodies) is ignored.
 */
export function applyRevocationEvent(list: RevocationList, body: Buffer | string): boolean {
  const event = parseEvent(body);
  if (!event) return false;
  const at = event.time;
  switch (event.type) {
    case 'auth.session.revoked':
    case 'auth.session.refresh_reuse_detected':
      if (!event.sessionId) return false;
      list.revokeSession(event.sessionId, at);
      return true;
    case 'auth.user.deleted':
      if (!event.userId) return false;
      list.cutOffUser(event.userId, at);
      return true;
    case 'auth.user.status_changed':
      if (!event.userId || event.data.status === 'active') return false;
      list.cutOffUser(event.userId, at);
      return true;
    case 'auth.user.roles_changed':
      // A role taken away: earlier tokens still claim it. Roles only added: earlier tokens claim less, fine.
      if (!event.userId || !rolesRemoved(event.data)) return false;
      list.cutOffUser(event.userId, at);
      return true;
    default:
      return false;
  }
}

interface ParsedEvent {
  type: string;
  time: number | undefined;
  userId: string | undefined;
  sessionId: string | undefined;
  data: Record<string, unknown>;
}

const ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** A CloudEvent (structured JSON, CONTRACT §6), read defensively: anything malformed is ignored, never thrown. */
export function parseEvent(body: Buffer | string): ParsedEvent | undefined {
  let value: unknown;
  try {
    value = JSON.parse(typeof body === 'string' ? body : body.toString('utf8'));
  } catch {
    return undefined;
  }
  if (!isObject(value) || typeof value.type !== 'string') return undefined;
  const data = isObject(value.data) ? value.data : {};
  const id = (candidate: unknown) => (typeof candidate === 'string' && ID.test(candidate) ? candidate : undefined);
  const time = typeof value.time === 'string' ? Date.parse(value.time) : NaN;
  return {
    type: value.type,
    time: Number.isFinite(time) ? time : undefined,
    userId: id(data.user_id) ?? id(value.subject),
    sessionId: id(data.session_id),
    data,
  };
}

function rolesRemoved(data: Record<string, unknown>): boolean {
  const { roles, previous_roles: previous } = data;
  if (!Array.isArray(roles) || !Array.isArray(previous)) return true; // unreadable: err on the side of refusing
  return previous.some((role) => !roles.includes(role));
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

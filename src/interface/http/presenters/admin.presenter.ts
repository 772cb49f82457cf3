import type { AuditPosition, AuditRecord } from '@application/ports/audit-trail';
import type { UserStats } from '@application/ports/user-directory';
import { Errors } from '@application/shared/errors';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The keyset as an opaque token: base64url of `[instant, id]`. Only its own shape decodes. */
export function encodeCursor(position: AuditPosition | null): string | null {
  return position === null ? null : Buffer.from(JSON.stringify([position.occurredAt.toISOString(), position.id])).toString('base64url');
}

/** 400 VALIDATION_ERROR `details.cursor` for anything this service did not hand out. */
export function decodeCursor(cursor: string | undefined): AuditPosition | null {
  if (cursor === undefined) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw Errors.validation('cursor', 'cursor is invalid');
  }
  if (Array.isArray(parsed) && parsed.length === 2 && typeof parsed[0] === 'string' && typeof parsed[1] === 'string' && UUID.test(parsed[1])) {
    const occurredAt = new Date(parsed[0]);
    if (storable(occurredAt) && occurredAt.toISOString() === parsed[0]) return { occurredAt, id: parsed[1] };
  }
  throw Errors.validation('cursor', 'cursor is invalid');
}

/**
 * An instant the database can compare with: a real date (`new Date` yields Invalid Date for ISO 8601 forms it does
 * not read, e.g. week dates `2020-W01`, which the DTO's IsISO8601 accepts) within years 1-9999 (JavaScript dates
 * reach ±275,760, past what PostgreSQL's timestamptz reads back from an ISO string).
 */
function storable(date: Date): boolean {
  const year = date.getUTCFullYear();
  return !Number.isNaN(date.getTime()) && year >= 1 && year <= 9999;
}

/** A calendar date's year, month and day at the start of an ISO 8601 string (extended format, as Date reads it). */
const CALENDAR_DATE = /^([+-]\d{6}|\d{4})-(\d{2})-(\d{2})/;

/**
 * Whether the calendar date the value starts with exists: `new Date` rolls `2021-02-29` over to March 1st. (The
 * DTO's IsISO8601 checks only the shape: its `strict` check misreads years 1-99, building `new Date("1-01-01")`,
 * which is 2001, so it refused `0001-01-01`.)
 */
function dayExists(value: string): boolean {
  const match = CALENDAR_DATE.exec(value);
  if (!match) return true;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
  return days !== undefined && day >= 1 && day <= days;
}

/** A date and time that ends without `Z` or an offset. */
const TIME_WITHOUT_OFFSET = /[Tt]\d{2}(?::?\d{2}(?::?\d{2}(?:[.,]\d+)?)?)?$/;

/**
 * The calendar forms read here: a year (4 digits, or 6 with a sign), month and day, then optionally a time after `T`
 * or a space. IsISO8601 also lets through ordinal dates (`2026-001`), which Date reads as local midnight, and a space
 * before the time, which Date reads in the server's zone too: both moved the filter by TZ's offset (an outside
 * review, stop 49). Week dates and the basic format never parsed; they are refused here alike.
 */
const CALENDAR_FORM = /^(?:[+-]\d{6}|\d{4})(?:-\d{2}(?:-\d{2}(?:[Tt ].+)?)?)?$/;

/**
 * An ISO 8601 query parameter (`since`, `until`) as a Date, or 400 VALIDATION_ERROR on that field: a day that
 * exists, an instant in years 1-9999 UTC (`0001-01-01` to `9999-12-31T23:59:59.999Z`), which PostgreSQL and the
 * in-memory adapter both compare exactly.
 */
export function instantParam(field: string, value: string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  // A time without an offset is UTC, as a date alone is (JavaScript reads it in the server's zone: with TZ set to
  // Europe/Berlin, `since=2026-01-31T00:00:00` meant 23:00 UTC the day before; an outside review, 2026-12-02).
  const iso = CALENDAR_FORM.test(value) ? value.replace(' ', 'T') : null;
  const date = iso === null ? new Date(NaN) : new Date(TIME_WITHOUT_OFFSET.test(iso) ? `${iso}Z` : iso);
  if (!storable(date) || !dayExists(value)) throw Errors.validation(field, `${field} must be a date and time such as 2026-01-31T00:00:00Z, in years 1-9999`);
  return date;
}

/**
 * `since` (inclusive) and `until` (exclusive) as Dates; `until` earlier than `since` is 400 VALIDATION_ERROR on
 * `until` (until stop 65 it answered 200 with no events, which read as "nothing happened": a review of clocks).
 */
export function instantRange(since: string | undefined, until: string | undefined): { since?: Date; until?: Date } {
  const range = { since: instantParam('since', since), until: instantParam('until', until) };
  if (range.since && range.until && range.until.getTime() < range.since.getTime()) {
    throw Errors.validation('until', 'until must not be earlier than since');
  }
  return range;
}

/** A whole number already checked by the query DTO's pattern, or the default. */
export function intParam(value: string | undefined, fallback: number): number {
  return value === undefined ? fallback : Number.parseInt(value, 10);
}

/** The admin's view of an audit entry: never its internal `reason`. */
export function presentAuditEvent(record: AuditRecord) {
  return {
    id: record.id,
    type: record.type,
    outcome: record.outcome,
    actor_id: record.actorId,
    subject_id: record.subjectId,
    ip: record.ip,
    user_agent: record.userAgent,
    request_id: record.requestId,
    occurred_at: record.occurredAt.toISOString(),
  };
}

/**
 * The user's own activity (CONTRACT §3): `{type, time, ip, user_agent}`, and `outcome`, without which a refused
 * attempt (a wrong current password on `password.changed`, a wrong code on `mfa.disabled`) would read as done.
 */
export function presentActivity(record: AuditRecord) {
  return { type: record.type, outcome: record.outcome, time: record.occurredAt.toISOString(), ip: record.ip, user_agent: record.userAgent };
}

export function presentStats(stats: UserStats) {
  return {
    total_users: stats.totalUsers,
    active_users: stats.activeUsers,
    verified_users: stats.verifiedUsers,
    new_users_today: stats.newUsersToday,
    new_users_this_week: stats.newUsersThisWeek,
    new_users_this_month: stats.newUsersThisMonth,
  };
}

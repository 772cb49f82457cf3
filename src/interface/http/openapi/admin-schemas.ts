import type { SchemaObject } from 'openapi3-ts/oas31';
import { ADMIN_USER_SCHEMA, objectSchema, SESSION_SCHEMA } from './schemas';

/** Response schemas of the admin API and the user's activity (issue 12); presenters/admin.presenter.ts. */
const DATE_TIME = { type: 'string', format: 'date-time' } satisfies SchemaObject;
const NULLABLE_STRING: SchemaObject = { type: ['string', 'null'] };
const COUNT = { type: 'integer', minimum: 0 } satisfies SchemaObject;
const CURSOR: SchemaObject = { type: ['string', 'null'], description: 'Opaque; pass as `cursor` for the next page; null on the last page.' };

export const PAGINATION_SCHEMA = objectSchema({
  page: { type: 'integer', minimum: 1 },
  limit: { type: 'integer', minimum: 1, maximum: 100 },
  total: COUNT,
  total_pages: COUNT,
  has_next: { type: 'boolean' },
  has_prev: { type: 'boolean' },
});

export const USER_LIST_SCHEMA = objectSchema({ users: { type: 'array', items: ADMIN_USER_SCHEMA }, pagination: PAGINATION_SCHEMA });
export const USER_DETAILS_SCHEMA = objectSchema({ user: ADMIN_USER_SCHEMA, sessions: { type: 'array', items: SESSION_SCHEMA } });
export const ADMIN_USER_DATA_SCHEMA = objectSchema({ user: ADMIN_USER_SCHEMA });
export const REVOKED_SCHEMA = objectSchema({ revoked: COUNT });

export const STATS_SCHEMA = objectSchema(
  {
    total_users: COUNT,
    active_users: { ...COUNT, description: 'Active and not locked now: the total of GET /admin/users?status=active.' },
    verified_users: COUNT,
    new_users_today: COUNT,
    new_users_this_week: COUNT,
    new_users_this_month: COUNT,
  },
  'Exact counts; today, this week (from Monday) and this month start at 00:00 UTC.',
);

export const AUDIT_EVENT_SCHEMA = objectSchema({
  id: { type: 'string', format: 'uuid' },
  type: { type: 'string' },
  outcome: { type: 'string', enum: ['success', 'failure'] },
  actor_id: { type: ['string', 'null'], format: 'uuid' },
  subject_id: { type: ['string', 'null'], format: 'uuid' },
  ip: NULLABLE_STRING,
  user_agent: NULLABLE_STRING,
  request_id: NULLABLE_STRING,
  occurred_at: DATE_TIME,
});
export const AUDIT_EVENTS_SCHEMA = objectSchema({ events: { type: 'array', items: AUDIT_EVENT_SCHEMA }, next_cursor: CURSOR });

export const ACTIVITY_SCHEMA = objectSchema({
  events: {
    type: 'array',
    items: objectSchema({
      type: { type: 'string' },
      outcome: { enum: ['success', 'failure'], description: 'failure: an attempt that was refused (e.g. a wrong current password or code)' },
      time: DATE_TIME,
      ip: NULLABLE_STRING,
      user_agent: NULLABLE_STRING,
    }),
  },
  next_cursor: CURSOR,
});

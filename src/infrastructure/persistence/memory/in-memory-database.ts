import type { AuditEntry } from '@application/ports/audit-log';
import type { ServiceClientState } from '@domain/client/service-client';
import type { SessionState } from '@domain/session/session';
import type { OneTimeToken } from '@domain/token/one-time-token';
import type { UserState } from '@domain/user/user';
import type { QueuedEmailRow } from '../../email/email-queue';
import type { AccountRequestRow } from '../../jobs/account-request-queue';
import type { CloudEvent } from '../../messaging/cloud-event';

export interface OutboxRow {
  event: CloudEvent;
  createdAt: Date;
  publishedAt: Date | null;
}

interface Tables {
  users: Map<string, UserState>;
  sessions: Map<string, SessionState>;
  /** retired refresh-token hash -> session id */
  refreshTokenHistory: Map<string, string>;
  oneTimeTokens: Map<string, OneTimeToken>;
  outbox: OutboxRow[];
  /** email_outbox: queued emails by id, bodies sealed */
  emails: Map<string, QueuedEmailRow>;
  /** With the id the SQL table gives each entry (the keyset of the audit listing). */
  auditEvents: (AuditEntry & { id: string })[];
  /** account_requests: register, reset and resend requests by id, payloads sealed */
  accountRequests: Map<string, AccountRequestRow>;
  /** `${subscriber}\n${eventId}` of every event a subscriber processed -> when (purged after the retention) */
  processedEvents: Map<string, Date>;
  /** service_clients by id, deleted ones included (soft deletion) */
  clients: Map<string, ServiceClientState>;
}

/**
 * The tables behind the in-memory repositories. Rows are stored as plain state and copied in and out, so an
 * aggregate read twice is two objects, as with a database. Transactions snapshot and restore the tables.
 */
export class InMemoryDatabase {
  tables: Tables = {
    users: new Map(),
    sessions: new Map(),
    refreshTokenHistory: new Map(),
    oneTimeTokens: new Map(),
    outbox: [],
    emails: new Map(),
    auditEvents: [],
    accountRequests: new Map(),
    processedEvents: new Map(),
    clients: new Map(),
  };

  snapshot(): Tables {
    return structuredClone(this.tables);
  }

  restore(snapshot: Tables): void {
    this.tables = snapshot;
  }
}

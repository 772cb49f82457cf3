import { InitialSchema1732000000000 } from './1732000000000-initial-schema';
import { EmailOutbox1732000000100 } from './1732000000100-email-outbox';
import { AuditEvents1732000000200 } from './1732000000200-audit-events';
import { ProcessedEvents1732000000300 } from './1732000000300-processed-events';
import { EmailOutboxFailed1764400000000 } from './1764400000000-email-outbox-failed';
import { AccountRequests1764400001000 } from './1764400001000-account-requests';
import { UserCredentials1764400002000 } from './1764400002000-user-credentials';
import { ServiceClients1764510000000 } from './1764510000000-service-clients';
import { AdminIndexes1764520000000 } from './1764520000000-admin-indexes';
import { GrowthIndexes1764540000000 } from './1764540000000-growth-indexes';
import { InactiveSearchIndex1764550000000 } from './1764550000000-inactive-search-index';
import { SigningKeyTokenTtl1764560000000 } from './1764560000000-signing-key-token-ttl';
import { IdnEmailDomains1764570000000 } from './1764570000000-idn-email-domains';
import { ClientTokensValidAfter1764580000000 } from './1764580000000-client-tokens-valid-after';
import { AdminSetAndAuditTypeIndexes1764590000000 } from './1764590000000-admin-set-and-audit-type-indexes';
import { EmailOutboxMessageFailures1764600000000 } from './1764600000000-email-outbox-message-failures';
import { EmailFoldFixedPoint1764610000000 } from './1764610000000-email-fold-fixed-point';
import { AccountRequestFailures1764620000000 } from './1764620000000-account-request-failures';
import { OutboxNextAttempt1764630000000 } from './1764630000000-outbox-next-attempt';
import { EmailInvisibleDomainMarks1764640000000 } from './1764640000000-email-invisible-domain-marks';
import { OutboxRecordedOrder1764650000000 } from './1764650000000-outbox-recorded-order';
import { UserInvitedBy1764660000000 } from './1764660000000-user-invited-by';
import { EmailDomainCaseFolding1764670000000 } from './1764670000000-email-domain-case-folding';
import { SessionsLiveByUser1764680000000 } from './1764680000000-sessions-live-by-user';
import { EmailBodiesDroppedWhenSent1764690000000 } from './1764690000000-email-bodies-dropped-when-sent';

/** Every migration, oldest first; registered explicitly on the DataSource (no glob loading). */
export const migrations = [
  InitialSchema1732000000000,
  EmailOutbox1732000000100,
  AuditEvents1732000000200,
  ProcessedEvents1732000000300,
  EmailOutboxFailed1764400000000,
  AccountRequests1764400001000,
  UserCredentials1764400002000,
  ServiceClients1764510000000,
  AdminIndexes1764520000000,
  GrowthIndexes1764540000000,
  InactiveSearchIndex1764550000000,
  SigningKeyTokenTtl1764560000000,
  IdnEmailDomains1764570000000,
  ClientTokensValidAfter1764580000000,
  AdminSetAndAuditTypeIndexes1764590000000,
  EmailOutboxMessageFailures1764600000000,
  EmailFoldFixedPoint1764610000000,
  AccountRequestFailures1764620000000,
  OutboxNextAttempt1764630000000,
  EmailInvisibleDomainMarks1764640000000,
  OutboxRecordedOrder1764650000000,
  UserInvitedBy1764660000000,
  EmailDomainCaseFolding1764670000000,
  SessionsLiveByUser1764680000000,
  EmailBodiesDroppedWhenSent1764690000000,
];

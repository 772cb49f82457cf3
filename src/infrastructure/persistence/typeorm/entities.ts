import { AccountRequestRecord } from './account-request.record';
import { AuditEventRecord } from './audit-event.record';
import { EmailOutboxRecord } from './email-outbox.record';
import { OneTimeTokenRecord } from './one-time-token.record';
import { OutboxEventRecord } from './outbox-event.record';
import { ProcessedEventRecord } from './processed-event.record';
import { RefreshTokenHistoryRecord, SessionRecord } from './session.record';
import { ServiceClientRecord } from './service-client.record';
import { SigningKeyRow } from './signing-key.record';
import { UserCredentialRecord, UserRecord } from './user.record';

/** Every ORM record class, registered on the DataSource. */
export const typeOrmEntities = [
  UserRecord,
  UserCredentialRecord,
  SessionRecord,
  RefreshTokenHistoryRecord,
  OneTimeTokenRecord,
  SigningKeyRow,
  OutboxEventRecord,
  EmailOutboxRecord,
  AuditEventRecord,
  ProcessedEventRecord,
  AccountRequestRecord,
  ServiceClientRecord,
];

export {
  AccountRequestRecord,
  AuditEventRecord,
  EmailOutboxRecord,
  UserCredentialRecord,
  OneTimeTokenRecord,
  OutboxEventRecord,
  ProcessedEventRecord,
  RefreshTokenHistoryRecord,
  ServiceClientRecord,
  SessionRecord,
  SigningKeyRow,
  UserRecord,
};

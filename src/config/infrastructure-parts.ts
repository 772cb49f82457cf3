import type { DataSource } from 'typeorm';
import type { AuditTrail } from '@application/ports/audit-trail';
import type { ClientSecrets } from '@application/ports/client-secrets';
import type { Clock } from '@application/ports/clock';
import type { IdGenerator } from '@application/ports/id-generator';
import type { Mailer } from '@application/ports/mailer';
import type { OpaqueTokens } from '@application/ports/opaque-tokens';
import type { PasswordHasher } from '@application/ports/password-hasher';
import type { PasswordStrengthEstimator } from '@application/ports/password-strength';
import type { RecoveryCodes } from '@application/ports/recovery-codes';
import type { SecretBox } from '@application/ports/secret-box';
import type { Totp } from '@application/ports/totp';
import type { UnitOfWork } from '@application/ports/unit-of-work';
import type { UserDirectory } from '@application/ports/user-directory';
import type { DeferredTasks } from '@infrastructure/jobs/deferred-tasks';
import type { AccountRequestWorker } from '@infrastructure/jobs/account-request-worker';
import type { TypeOrmRepositories } from '@infrastructure/persistence/typeorm/typeorm-unit-of-work';
import type { GateRefusal } from '@infrastructure/security/argon2/argon2-password-hasher';
import type { JoseTokenService } from '@infrastructure/security/jose/jose-token-service';
import type { SigningKeyManager } from '@infrastructure/security/jose/signing-key-manager';
import type { Cache } from './cache';
import type { EmailDelivery } from './email';
import type { Messaging } from './messaging';
import type { PurgeSchedule } from './purge-schedule';

/** What startInfrastructure (infrastructure.ts) gives the composition root: the adapters, running, and their close. */
export interface Infrastructure {
  clock: Clock;
  ids: IdGenerator;
  hasher: PasswordHasher;
  /** The hasher's refusals so far by reason, live counts (the metrics read them at scrape time). */
  hashRefusals: Readonly<Record<GateRefusal, number>>;
  /** The strength estimator's gate refusals (metrics). */
  strengthRefusals: Readonly<Record<GateRefusal, number>>;
  /** zxcvbn in a worker thread, started on first use. */
  passwordStrength: PasswordStrengthEstimator;
  opaqueTokens: OpaqueTokens;
  /** RFC 6238 TOTP (otpauth) and its QR codes. */
  totp: Totp;
  /** MFA recovery codes, keyed-hashed under a key derived from the encryption key. */
  recoveryCodes: RecoveryCodes;
  secretBox: SecretBox;
  tokens: JoseTokenService;
  keys: SigningKeyManager;
  mailer: Mailer;
  /** The email outbox sender (running) and the mailer it delivers through. */
  email: EmailDelivery;
  /** Processes register/reset/resend requests in the background; started by createApplication with its use case. */
  accountRequests: AccountRequestWorker;
  unitOfWork: UnitOfWork;
  /** Outside any transaction, for plain reads only (writes go through the unit of work). */
  repositories: Pick<TypeOrmRepositories, 'users' | 'sessions' | 'clients'>;
  /** Service-client secrets: HMAC under a key derived from the encryption key (issue 11). */
  clientSecrets: ClientSecrets;
  dataSource: DataSource;
  /** Admin API reads: listing, search, statistics (outside any transaction). */
  userDirectory: UserDirectory;
  /** The audit trail read back (admin listing, the user's own activity). */
  auditTrail: AuditTrail;
  embeddedDatabase: boolean;
  /** Event transport (RabbitMQ or in-process bus) and the outbox relay, running. */
  events: Messaging;
  /** Rate limits, lockout counters and session cache: Redis with REDIS_URL, process memory otherwise. */
  cache: Cache;
  /** Work that follows an answer (PORTS.DeferredWork); close() waits for it before the database goes. */
  deferred: DeferredTasks;
  /** purge-expired every PURGE_INTERVAL (a service's, not the CLI's: `background`). */
  purges: PurgeSchedule;
  /** `background` as read once (main.ts's is a live getter): the subscribers start on this, so the relay runs only if they do. */
  background: boolean;
  close(): Promise<void>;
}

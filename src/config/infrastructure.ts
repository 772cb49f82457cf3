import { mkdir } from 'node:fs/promises';
import { join, resolve as resolvePath } from 'node:path';
import type { Logger } from 'pino';
import type { DataSource } from 'typeorm';
import type { Clock } from '@application/ports/clock';
import type { IdGenerator } from '@application/ports/id-generator';
import type { Mailer } from '@application/ports/mailer';
import type { OpaqueTokens } from '@application/ports/opaque-tokens';
import type { PasswordHasher } from '@application/ports/password-hasher';
import type { SecretBox } from '@application/ports/secret-box';
import type { Repositories, UnitOfWork } from '@application/ports/unit-of-work';
import { DevMailboxMailer } from '@infrastructure/email/dev-mailbox/dev-mailbox-mailer';
import { TypeOrmUnitOfWork, typeOrmRepositories } from '@infrastructure/persistence/typeorm/typeorm-unit-of-work';
import { Argon2PasswordHasher } from '@infrastructure/security/argon2/argon2-password-hasher';
import { AesGcmSecretBox, parseEncryptionKey } from '@infrastructure/security/crypto/aes-gcm-secret-box';
import { CryptoOpaqueTokens } from '@infrastructure/security/crypto/crypto-opaque-tokens';
import { JoseTokenService } from '@infrastructure/security/jose/jose-token-service';
import { SigningKeyManager } from '@infrastructure/security/jose/signing-key-manager';
import { SystemClock } from '@infrastructure/time/system-clock';
import { UuidGenerator } from '@infrastructure/time/uuid-generator';
import { openDatabase } from './database';
import { resolveEncryptionKey } from './encryption-key';
import type { AppConfig } from './env';

const KEY_RELOAD_INTERVAL_MS = 60_000;

export interface Infrastructure {
  clock: Clock;
  ids: IdGenerator;
  hasher: PasswordHasher;
  opaqueTokens: OpaqueTokens;
  secretBox: SecretBox;
  tokens: JoseTokenService;
  keys: SigningKeyManager;
  mailer: Mailer;
  unitOfWork: UnitOfWork;
  repositories: Repositories;
  dataSource: DataSource;
  embeddedDatabase: boolean;
  close(): Promise<void>;
}

/** Test seams: a controllable clock, a mailbox the test reads. Production passes none. */
export interface InfrastructureOverrides {
  clock?: Clock;
  mailer?: Mailer;
}

/** Starts every adapter the configuration asks for: embedded parts where a URL is missing. */
export async function startInfrastructure(
  config: AppConfig,
  logger: Logger,
  overrides: InfrastructureOverrides = {},
): Promise<Infrastructure> {
  const dataDir = resolvePath(config.dataDir);
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const clock = overrides.clock ?? new SystemClock();
  const encryption = await resolveEncryptionKey(config.encryptionKey, dataDir);
  const secretBox = new AesGcmSecretBox(parseEncryptionKey(encryption.key));
  if (!config.encryptionKey) logger.warn({ source: encryption.source }, 'ENCRYPTION_KEY not set: using a key file under DATA_DIR');

  const database = await openDatabase(config, dataDir, logger);
  const { dataSource } = database;
  const repositories = typeOrmRepositories(dataSource.manager);
  const keys = new SigningKeyManager(repositories.signingKeys, secretBox, clock, {
    alg: config.jwt.alg,
    accessTokenTtlSeconds: config.jwt.accessTokenTtlSeconds,
  });
  await keys.init();
  // Other instances may rotate keys; pick their changes up well within the JWKS cache lifetime (300 s).
  const keyRefresh = setInterval(() => {
    keys.reload().catch((error: unknown) => logger.warn({ err: error }, 'signing key reload failed'));
  }, KEY_RELOAD_INTERVAL_MS);
  keyRefresh.unref();
  return {
    clock,
    ids: new UuidGenerator(),
    hasher: new Argon2PasswordHasher(config.argon2),
    opaqueTokens: new CryptoOpaqueTokens(),
    secretBox,
    keys,
    tokens: new JoseTokenService(keys, {
      issuer: config.jwt.issuer,
      audience: config.jwt.audience,
      accessTokenTtlSeconds: config.jwt.accessTokenTtlSeconds,
      alg: config.jwt.alg,
    }),
    mailer: overrides.mailer ?? new DevMailboxMailer(join(dataDir, 'mail'), config.mailFrom, logger),
    unitOfWork: new TypeOrmUnitOfWork(dataSource),
    repositories,
    dataSource,
    embeddedDatabase: database.embedded,
    async close() {
      clearInterval(keyRefresh);
      await database.close();
    },
  };
}

import { existsSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { queueNames } from '@infrastructure/messaging/rabbitmq/amqp-event-subscriptions';
import { generateEncryptionKey } from '@infrastructure/security/crypto/aes-gcm-secret-box';
import { describeWhen, REAL_POSTGRES_SELECTED, REAL_AMQP_URL, REAL_RABBIT_SELECTED, cleanupBroker, uniqueNames, REAL_REDIS_SELECTED, REAL_REDIS_URL, dropKeyPrefix, uniqueKeyPrefix } from '../support/servers';
import { PASSWORD, startTestApp } from '../support/app';

/**
 * The Docker image runs as a non-root user in a root-owned /app: a fully configured service must not need
 * DATA_DIR at all. DATA_DIR here does not exist and its parent is read-only (0555; a root test runner ignores
 * the mode, so the assertion is that the directory still does not exist afterwards).
 */
describeWhen(REAL_POSTGRES_SELECTED && REAL_REDIS_SELECTED && REAL_RABBIT_SELECTED, 'the real PostgreSQL, Redis and RabbitMQ')(
  'configured mode (four URLs and ENCRYPTION_KEY) leaves DATA_DIR alone',
  () => {
    it('starts, serves a sign-up and a login, and stops without creating or writing DATA_DIR', async () => {
      const parent = await mkdtemp(join(tmpdir(), 'auth-readonly-'));
      const dataDir = join(parent, 'data');
      const prefix = uniqueKeyPrefix();
      const { exchange, queuePrefix } = uniqueNames();
      await chmod(parent, 0o555);
      try {
        const t = await startTestApp({
          backend: 'postgres',
          dataDir,
          env: {
            REDIS_URL: REAL_REDIS_URL,
            REDIS_KEY_PREFIX: prefix,
            AMQP_URL: REAL_AMQP_URL,
            AMQP_EXCHANGE: exchange,
            AMQP_QUEUE_PREFIX: queuePrefix,
            // Never dialled: the test's in-memory mailer replaces the SMTP transport.
            SMTP_URL: 'smtp://127.0.0.1:1',
            ENCRYPTION_KEY: generateEncryptionKey(),
            REQUIRE_EMAIL_VERIFICATION: 'false',
          },
        });
        try {
          await t.http.post('/api/v1/auth/register').send({ email: 'ro@example.com', password: PASSWORD }).expect(201);
          await t.http.post('/api/v1/auth/login').send({ email: 'ro@example.com', password: PASSWORD }).expect(200);
          expect(existsSync(dataDir)).toBe(false);
        } finally {
          await t.stop();
          await cleanupBroker(exchange, Object.values(queueNames(queuePrefix, 'security-notices')));
          await dropKeyPrefix(prefix);
        }
        expect(existsSync(dataDir)).toBe(false);
      } finally {
        await chmod(parent, 0o755);
        await rm(parent, { recursive: true, force: true });
      }
    }, 60_000);
  },
);

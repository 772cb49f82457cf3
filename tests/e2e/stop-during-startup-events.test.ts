import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { createApplication } from '@config/application';
import { loadConfig } from '@config/env';
import { EventTypes } from '@domain/shared/event-types';
import { InMemoryMailer } from '@infrastructure/email/memory/in-memory-mailer';
import { createLogger } from '@infrastructure/logging/pino-logger';
import { createDataSource } from '@infrastructure/persistence/typeorm/data-source';
import { TypeOrmOutboxWriter } from '@infrastructure/persistence/typeorm/outbox-writer';
import { SECURITY_NOTICES_SUBSCRIBER } from '@interface/events/security-notice.subscriber';
import { CHEAP_HASHING } from '../support/app';
import { eventually } from '../support/events';
import { createScratchDatabase, describeWhen, REAL_POSTGRES_SELECTED } from '../support/servers';

/**
 * A review (2026-12-08): main.ts passes start-up a live `background` getter (false once a stop was requested). It was
 * read twice: by startInfrastructure, which started the outbox relay, and after the hasher and zxcvbn warm-ups by
 * createApplication, which then started no subscriber. A SIGTERM in between left the in-process bus with events it
 * had reported confirmed (so marked published) and no queue to hand them to: close() dropped them, and an
 * `auth.account.locked` never became the owner's email. The relay must run only if delivery does: the event is
 * either still pending in the outbox after the close, or was handled by its subscriber.
 */
describeWhen(REAL_POSTGRES_SELECTED, 'the real PostgreSQL')('a stop requested during start-up, between the relay and the subscribers', () => {
  it('loses no event: a stop during the warm-ups after the one read of background starts the relay and the subscribers together, and the notice is handled', async () => {
    const scratch = await createScratchDatabase({ migrated: true });
    const dataDir = mkdtempSync(join(tmpdir(), 'auth-stop-events-'));
    const db: DataSource = createDataSource({ url: scratch.url, poolSize: 1 });
    try {
      await db.initialize();
      // Pending before the start, as after a restart: the relay's first batch takes it.
      await db.transaction((manager) =>
        new TypeOrmOutboxWriter(manager).write([{ type: EventTypes.AccountLocked, subject: randomUUID(), occurredAt: new Date(), data: { locked_until: new Date().toISOString() } }]),
      );
      const [{ id }] = (await db.query('SELECT id FROM outbox_events')) as { id: string }[];
      const config = loadConfig({
        NODE_ENV: 'test',
        PORT: '0',
        DATA_DIR: dataDir,
        LOG_LEVEL: 'silent',
        APP_PUBLIC_URL: 'https://app.example.com',
        JWT_ISSUER: 'https://auth.example.com',
        JWT_AUDIENCE: 'example-api',
        DATABASE_URL: scratch.url,
        PURGE_INTERVAL: '0',
        ...CHEAP_HASHING,
      });
      // As main.ts's getter when the SIGTERM comes during start-up: true the first time it is read, false after.
      let reads = 0;
      const app = await createApplication(config, {
        mailer: new InMemoryMailer(),
        logger: createLogger('silent'),
        get background() {
          reads += 1;
          return reads === 1;
        },
      });
      const state = async () =>
        ((await db.query(
          `SELECT (SELECT published_at IS NOT NULL FROM outbox_events WHERE id = $1) AS published,
                  EXISTS (SELECT 1 FROM processed_events WHERE event_id = $2 AND subscriber = $3) AS handled`,
          [id, id, SECURITY_NOTICES_SUBSCRIBER],
        )) as { published: boolean; handled: boolean }[])[0]!;
      // Read once, true: the relay and the subscribers both start, and the event is delivered. (Read twice, the relay
      // started and the subscribers did not: the event was marked published and never handled, and this wait fails.)
      await eventually(async () => (await state()).handled, 20_000);
      await app.close();
      expect(await state()).toEqual({ published: true, handled: true });
      expect(reads).toBe(1);
    } finally {
      if (db.isInitialized) await db.destroy();
      await scratch.drop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);
});

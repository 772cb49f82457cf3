import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApplication } from '@config/application';
import { closeInOrder } from '@config/close-in-order';
import { loadConfig } from '@config/env';
import { InMemoryMailer } from '@infrastructure/email/memory/in-memory-mailer';
import { createLogger } from '@infrastructure/logging/pino-logger';
import { CHEAP_HASHING } from '../support/app';
import { RecordingLogger } from '../support/events';

/**
 * A review of exception handling (stop 65): the shutdown's steps ran one after another, and the first that rejected
 * skipped the rest: the database, the cache, the embedded DATA_DIR's lock (so the next start found it held) and the
 * strength estimator's worker stayed open. Each step now runs whatever became of the ones before.
 */
describe('shutdown steps', () => {
  it('closeInOrder runs every step, logs each failure, and rejects with the first', async () => {
    const logger = new RecordingLogger();
    const ran: string[] = [];
    const first = new Error('events could not close');
    const steps = [
      ['a', () => void ran.push('a')],
      ['b', async () => {
        ran.push('b');
        throw first;
      }],
      ['c', async () => {
        ran.push('c');
        throw new Error('second failure');
      }],
      ['d', () => void ran.push('d')],
    ] as const;
    await expect(closeInOrder(logger, steps)).rejects.toBe(first);
    expect(ran).toEqual(['a', 'b', 'c', 'd']);
    expect(logger.lines.filter((l) => l.level === 'error').map((l) => l.fields['step'])).toEqual(['b', 'c']);
  });

  it('an embedded service whose event bus fails to close still closes its database and frees its DATA_DIR', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'auth-shutdown-steps-'));
    try {
      const config = loadConfig({ NODE_ENV: 'test', PORT: '0', DATA_DIR: dataDir, LOG_LEVEL: 'silent', PURGE_INTERVAL: '0', ...CHEAP_HASHING });
      const app = await createApplication(config, { mailer: new InMemoryMailer(), logger: createLogger('silent'), background: false });
      const failure = new Error('the bus would not close');
      jest.spyOn(app.infra.events, 'close').mockRejectedValue(failure);
      expect(existsSync(join(dataDir, 'embedded.lock'))).toBe(true);
      await expect(app.close()).rejects.toBe(failure);
      expect(existsSync(join(dataDir, 'embedded.lock'))).toBe(false);
      expect(app.infra.dataSource.isInitialized).toBe(false);
    } finally {
      jest.restoreAllMocks();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);
});

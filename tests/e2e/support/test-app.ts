import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { createApplication, type Application } from '@config/application';
import { loadConfig, type AppConfig } from '@config/env';
import type { EmailMessage } from '@application/ports/mailer';
import { InMemoryMailer } from '@infrastructure/email/memory/in-memory-mailer';
import { createLogger } from '@infrastructure/logging/pino-logger';
import { ManualClock } from '@infrastructure/time/system-clock';
import { createScratchDatabase } from '../../support/postgres';

export type Backend = 'pglite' | 'postgres';

export interface TestApp {
  app: Application;
  http: ReturnType<typeof request>;
  mailer: InMemoryMailer;
  clock: ManualClock;
  dataDir: string;
  config: AppConfig;
  /** The token of the last link mailed to `to`. */
  lastMailedToken(to: string): string;
  /**
   * Emails go through the durable outbox and a background sender: waits (bounded) until `to` has received
   * `count` messages and returns the `count`-th.
   */
  waitForMail(to: string, count?: number): Promise<EmailMessage>;
  stop(): Promise<void>;
}

export interface TestAppOptions {
  backend?: Backend;
  env?: Record<string, string>;
  /** Reuse a data directory (restart tests); removed by the caller. */
  dataDir?: string;
  databaseUrl?: string;
  /** Deliver through the configured mailer (SMTP_URL in `env`) instead of the in-memory one. */
  configuredMailer?: boolean;
  /** The service's logger (default: silent), e.g. one that keeps the lines for a test to read. */
  logger?: ReturnType<typeof createLogger>;
}

/** The whole service through its composition root, on PGlite in a temp dir or on a scratch database. */
export async function startTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const ownDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'auth-e2e-'));
  const scratch = options.backend === 'postgres' && !options.databaseUrl ? await createScratchDatabase() : null;
  const databaseUrl = options.databaseUrl ?? scratch?.url;
  const config = loadConfig({
    NODE_ENV: 'test',
    PORT: '0',
    DATA_DIR: dataDir,
    LOG_LEVEL: 'silent',
    APP_PUBLIC_URL: 'https://app.example.com',
    JWT_ISSUER: 'https://auth.example.com',
    JWT_AUDIENCE: 'example-api',
    ...(databaseUrl ? { DATABASE_URL: databaseUrl, MIGRATE_ON_START: 'true' } : {}),
    ...options.env,
  });
  const mailer = new InMemoryMailer();
  const clock = new ManualClock(new Date());
  const app = await createApplication(config, { ...(options.configuredMailer ? {} : { mailer }), clock, logger: options.logger ?? createLogger('silent') });
  return {
    app,
    http: request(app.http.callback()),
    mailer,
    clock,
    dataDir,
    config,
    lastMailedToken(to: string) {
      const mail = mailer.inbox(to).at(-1);
      const match = mail ? /token=([A-Za-z0-9_-]+)/.exec(mail.text) : null;
      if (!match) throw new Error(`no token mailed to ${to}`);
      return match[1]!;
    },
    waitForMail: (to, count = 1) => waitForMail(mailer, to, count),
    async stop() {
      await app.close();
      await scratch?.drop();
      if (ownDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export const PASSWORD = 'correct horse battery staple';

/** Registers, verifies through the mailed link and logs in; returns the tokens object of the response. */
export async function signUp(t: TestApp, email: string, password = PASSWORD) {
  await t.http.post('/api/v1/auth/register').send({ email, password }).expect(202);
  await t.waitForMail(email);
  await t.http.post('/api/v1/auth/verify').send({ token: t.lastMailedToken(email) }).expect(200);
  const login = await t.http.post('/api/v1/auth/login').send({ email, password }).expect(200);
  return login.body.data as { user: { id: string }; tokens: { access_token: string; refresh_token: string } };
}

/** Polls the in-memory mailer every few milliseconds, for at most `timeoutMs`: no fixed sleep, no hang. */
export async function waitForMail(mailer: InMemoryMailer, to: string, count = 1, timeoutMs = 10_000): Promise<EmailMessage> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const message = mailer.inbox(to)[count - 1];
    if (message) return message;
    if (Date.now() > deadline) throw new Error(`no email #${count} to ${to} within ${timeoutMs} ms (got ${mailer.inbox(to).length})`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

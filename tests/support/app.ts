/**
 * The whole service for the e2e and security suites: in-process through the composition root (on PGlite, or on
 * the real servers in `servers` mode) or as a real process; and the checks those suites share.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import request from 'supertest';
import { createApplication, type Application } from '@config/application';
import { loadConfig, type AppConfig } from '@config/env';
import type { IntegrationEvent } from '@application/ports/event-publisher';
import type { EmailMessage } from '@application/ports/mailer';
import { InMemoryMailer } from '@infrastructure/email/memory/in-memory-mailer';
import { ZxcvbnWorkerStrengthEstimator } from '@infrastructure/security/zxcvbn/zxcvbn-worker-strength-estimator';
import { createLogger } from '@infrastructure/logging/pino-logger';
import { ManualClock } from '@infrastructure/time/system-clock';
import { seedMigratedPgdata } from './pgdata-template';
import { createScratchDatabase, dropKeyPrefix, REAL_POSTGRES_SELECTED, REAL_REDIS_SELECTED, REAL_REDIS_URL, uniqueKeyPrefix } from './servers';
import { freePort } from './ports';

const ROOT = resolve(__dirname, '../..');

// ---------------------------------------------------------------------------------------------- in process

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
  /** Waits for the work that follows answers (a failed login's bookkeeping: its audit entry, row and event). */
  settle(): Promise<void>;
  stop(): Promise<void>;
}

export interface TestAppOptions {
  /**
   * Default: the real PostgreSQL (a scratch database) when it is selected (CI, or reachable), for an app with a
   * data directory of its own; PGlite otherwise, and always for a reused `dataDir` (restarts keep their cluster
   * there). The embedded mode as a whole (PGlite with the in-memory adapters) is what `startSecureApp('embedded')`
   * starts, and every suite looping over MODES runs it; an e2e suite about PGlite asks for it by name.
   */
  backend?: Backend;
  env?: Record<string, string>;
  /** Reuse a data directory (restart tests); removed by the caller. */
  dataDir?: string;
  databaseUrl?: string;
  /** Deliver through the configured mailer (SMTP_URL in `env`) instead of the in-memory one. */
  configuredMailer?: boolean;
  /** The service's logger (default: silent), e.g. one that keeps the lines for a test to read. */
  logger?: ReturnType<typeof createLogger>;
  /**
   * A zxcvbn worker of the app's own, started and closed with it, as a service has (default: the suite's shared
   * one, see sharedPasswordStrength): for suites about the worker's start or its queue.
   */
  ownPasswordStrength?: boolean;
}

/**
 * One zxcvbn worker for the apps a suite starts in process, when they configure it alike (ZXCVBN_QUEUE_TIMEOUT),
 * closed after the suite's last test. Each worker loads the dictionaries when it starts: 0.75-0.85 s of CPU on the
 * machine of stop 54, for each of the hundred-odd apps `npm test` starts. The app still warms it up at its start
 * (an answer from a worker already loaded) and uses it as its own; it only does not close it. Suites about the
 * worker itself (its warm-up, its queue and the metrics of its refusals) ask for their own (ownPasswordStrength).
 */
let sharedStrength: { queueTimeoutMs: number; estimator: ZxcvbnWorkerStrengthEstimator } | null = null;
// Registered when a suite imports this module, before its own blocks: it runs after their afterAll (the apps' stops).
afterAll(async () => {
  await sharedStrength?.estimator.close();
  sharedStrength = null;
});

function sharedPasswordStrength(config: AppConfig): ZxcvbnWorkerStrengthEstimator | undefined {
  const { queueTimeoutMs } = config.zxcvbn;
  sharedStrength ??= { queueTimeoutMs, estimator: new ZxcvbnWorkerStrengthEstimator(config.zxcvbn) };
  return sharedStrength.queueTimeoutMs === queueTimeoutMs ? sharedStrength.estimator : undefined;
}

/**
 * Argon2id at parameters NODE_ENV=test alone accepts (1 MiB, 1 pass: about 1 ms a hash instead of 40): the
 * default of in-process apps, whose suites are about flows, not about hashing. The adapter, the rehash-on-login
 * and the dummy hash for unknown addresses are the same code at any parameters.
 */
export const CHEAP_HASHING: Readonly<Record<string, string>> = { ARGON2_MEMORY_COST: '1024', ARGON2_TIME_COST: '1' };

/**
 * The production parameters, for suites where the hash's duration is what they are about: timing comparisons,
 * and races whose window is a password check (a stale read held across a 40 ms verification).
 */
export const PRODUCTION_HASHING: Readonly<Record<string, string>> = { ARGON2_MEMORY_COST: '19456', ARGON2_TIME_COST: '2' };

/** The whole service through its composition root, on PGlite in a temp dir or on a scratch database. */
export async function startTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const ownDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'auth-e2e-'));
  const backend = options.backend ?? (ownDir && REAL_POSTGRES_SELECTED ? 'postgres' : 'pglite');
  const scratch = backend === 'postgres' && !options.databaseUrl && options.env?.['DATABASE_URL'] === undefined ? await createScratchDatabase({ migrated: true }) : null;
  const databaseUrl = options.databaseUrl ?? scratch?.url;
  // A fresh embedded database starts as a copy of a migrated one (initdb and migrations cost 5 s per start).
  if (ownDir && databaseUrl === undefined && options.env?.['DATABASE_URL'] === undefined) await seedMigratedPgdata(dataDir);
  const config = loadConfig({
    NODE_ENV: 'test',
    PORT: '0',
    DATA_DIR: dataDir,
    LOG_LEVEL: 'silent',
    APP_PUBLIC_URL: 'https://app.example.com',
    JWT_ISSUER: 'https://auth.example.com',
    JWT_AUDIENCE: 'example-api',
    ...(databaseUrl ? { DATABASE_URL: databaseUrl, MIGRATE_ON_START: 'true' } : {}),
    // The service's own purge is off: a suite whose clock has moved on must not lose rows to it mid-test (a suite
    // about it turns it on: tests/e2e/purge-schedule.test.ts).
    PURGE_INTERVAL: '0',
    ...CHEAP_HASHING,
    ...options.env,
  });
  const mailer = new InMemoryMailer();
  const clock = new ManualClock(new Date());
  const app = await createApplication(config, {
    ...(options.configuredMailer ? {} : { mailer }),
    clock,
    logger: options.logger ?? createLogger('silent'),
    passwordStrength: options.ownPasswordStrength ? undefined : sharedPasswordStrength(config),
  });
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
    settle: () => app.infra.deferred.drain(),
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

// ---------------------------------------------------------------------------------------------- modes

/**
 * embedded: PGlite and the in-memory adapters (one process); servers: the real PostgreSQL and Redis (CI sets
 * their URLs; an unreachable one fails there, elsewhere it is left out with a warning).
 */
export type Mode = 'embedded' | 'servers';
export const MODES: Mode[] = REAL_POSTGRES_SELECTED && REAL_REDIS_SELECTED ? ['embedded', 'servers'] : ['embedded'];

/** No rate limit at all: for suites about something else that send many requests from one address. */
export const NO_RATE_LIMITS: Record<string, string> = Object.fromEntries(
  ['LOGIN', 'REGISTER', 'VERIFY', 'PASSWORD_RESET', 'REFRESH', 'CURRENT_PASSWORD', 'MFA', 'MFA_SETUP', 'OAUTH', 'INTROSPECT', 'REVOKE'].flatMap((g) => [
    [`RATE_LIMIT_${g}_IP`, 'off'],
    [`RATE_LIMIT_${g}_ID`, 'off'],
  ]),
);

/** No rate limit and a lockout threshold no test reaches: for suites that send many failing logins on purpose. */
export const NO_LIMITS: Record<string, string> = { ...NO_RATE_LIMITS, LOCKOUT_THRESHOLD: '1000' };

/** The whole service through its composition root in `mode`, with its own Redis key prefix (removed at stop). */
export async function startSecureApp(mode: Mode, env: Record<string, string> = {}, options: Pick<TestAppOptions, 'logger' | 'ownPasswordStrength'> = {}): Promise<TestApp> {
  const prefix = uniqueKeyPrefix();
  const servers = mode === 'servers';
  const t = await startTestApp({
    backend: servers ? 'postgres' : 'pglite',
    env: { ...(servers ? { REDIS_URL: REAL_REDIS_URL, REDIS_KEY_PREFIX: prefix } : {}), ...env },
    ...options,
  });
  return {
    ...t,
    async stop() {
      await t.stop();
      if (servers) await dropKeyPrefix(prefix);
    },
  };
}

// ---------------------------------------------------------------------------------------------- a real process

export interface ServiceProcess {
  base: string;
  child: ChildProcess;
  /** What the process wrote to stderr/stdout, for a failing test's message. */
  output(): string;
  stop(): Promise<void>;
}


/**
 * A real service process (`src/main.ts` through the SWC require hook, as `npm start` runs the build), with its
 * own port and data directory, configured by `env` only: nothing of the test's environment leaks in.
 */
export async function startServiceProcess(env: Record<string, string>): Promise<ServiceProcess> {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'auth-proc-'));
  const child = spawn(process.execPath, ['-r', join(ROOT, 'tests/support/swc-register.cjs'), join(ROOT, 'src/main.ts')], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'development', HOST: '127.0.0.1', PORT: String(port), DATA_DIR: dataDir, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const base = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null) child.kill('SIGTERM');
    await exited;
    rmSync(dataDir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) break;
    const ready = await fetch(`${base}/health/ready`).then((r) => r.ok, () => false);
    if (ready) return { base, child, output: () => output, stop };
    if (Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  await stop();
  throw new Error(`service process did not become ready:\n${output}`);
}

/** JSON over fetch: the status, body and headers of one call. */
export async function call(base: string, path: string, init: { method?: string; body?: unknown; token?: string } = {}) {
  const response = await fetch(`${base}${path}`, {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    headers: { 'content-type': 'application/json', ...(init.token ? { authorization: `Bearer ${init.token}` } : {}) },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as Record<string, any>) : {}, headers: response.headers };
}

// ---------------------------------------------------------------------------------------------- secrets

/** Keys that would mean a secret travelled in an event (CONTRACT §6), at any depth of `data`. */
export const FORBIDDEN_KEYS = /pass(word)?|hash|token|secret|sealed|private|otp|backup|code|key|cookie|authorization/i;

/** Also the shapes of secrets whatever the key: argon2 PHC strings, JWTs, long opaque base64url strings. */
const SECRET_SHAPES = [/\$argon2/, /^eyJ[\w-]+\.[\w-]+\.[\w-]*$/, /^[A-Za-z0-9_-]{40,}$/];

/** Fails with the offending event and path when data holds a forbidden key, a known secret or a secret's shape. */
export function expectNoSecrets(events: readonly IntegrationEvent[], knownSecrets: readonly string[]): void {
  const problems: string[] = [];
  const visit = (value: unknown, path: string, event: IntegrationEvent): void => {
    if (typeof value === 'string') {
      if (knownSecrets.some((secret) => secret.length > 0 && value.includes(secret))) problems.push(`${event.type} ${path}: a known secret`);
      if (SECRET_SHAPES.some((shape) => shape.test(value))) problems.push(`${event.type} ${path}: looks like a secret`);
    } else if (Array.isArray(value)) {
      value.forEach((item, i) => visit(item, `${path}[${i}]`, event));
    } else if (typeof value === 'object' && value !== null) {
      for (const [key, child] of Object.entries(value)) {
        if (FORBIDDEN_KEYS.test(key)) problems.push(`${event.type} ${path}.${key}: forbidden key`);
        visit(child, `${path}.${key}`, event);
      }
    }
  };
  for (const event of events) visit(event.data, 'data', event);
  if (problems.length > 0) throw new Error(`events carry secrets:\n${problems.join('\n')}`);
}

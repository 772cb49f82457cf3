import { type ClientRequest, request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { createLogger } from '@infrastructure/logging/pino-logger';
import { Argon2PasswordHasher, QUEUE_LENGTH_PER_SLOT } from '@infrastructure/security/argon2/argon2-password-hasher';
import { NO_RATE_LIMITS, PASSWORD, type TestApp, signUp, startTestApp } from '../support/app';
import { eventually } from '../support/events';
import { samplesOf, valueOf } from '../support/prometheus';

/**
 * Saturated password hashing (an outside review, 2026-11-30: a login storm from many addresses queued without
 * bound): a login whose hash the gate refuses is answered 503 SERVICE_UNAVAILABLE with Retry-After, for a known
 * and an unknown account alike, and is no failed attempt: it neither counts toward the lockout nor keeps a place.
 * A login or registration whose client leaves while it waits for the gate is never hashed (an outside review:
 * logins fired and dropped at once filled the queue with work nobody waited for), pipelined ones included.
 */
describe('password hashing saturated: POST /auth/login, /auth/register', () => {
  let t: TestApp;
  /** The service's log lines, as written (JSON). */
  const logged: string[] = [];

  beforeAll(async () => {
    const logger = createLogger('info', { write: (line: string) => void logged.push(line) });
    t = await startTestApp({ env: { ...NO_RATE_LIMITS, ARGON2_CONCURRENCY: '1', LOCKOUT_THRESHOLD: '5' }, logger });
    await signUp(t, 'alice@example.com');
  }, 60_000);
  afterAll(async () => t?.stop());

  // A bound of its own: a login that waits for the slot (the gate without bounds) fails the test, not hangs it.
  const login = (email: string, password: string) => t.http.post('/api/v1/auth/login').timeout(3_000).send({ email, password });

  function argon2(): Argon2PasswordHasher {
    const hasher = t.app.infra.hasher;
    if (!(hasher instanceof Argon2PasswordHasher)) throw new Error('the service hashes with argon2');
    return hasher;
  }

  /** Holds the one slot and fills the queue with jobs that do nothing: the next hash is refused at once. */
  function saturate(): () => Promise<void> {
    const hasher = argon2();
    let release!: () => void;
    const holder = hasher.gate.run(() => new Promise<void>((resolve) => (release = resolve)));
    const fillers = Array.from({ length: QUEUE_LENGTH_PER_SLOT }, () => hasher.gate.run(async () => undefined));
    expect(hasher.gate.queued).toBe(QUEUE_LENGTH_PER_SLOT);
    return async () => {
      release();
      await Promise.all([holder, ...fillers]);
    };
  }

  it('answers 503 with Retry-After, counts no failure and keeps no place in flight', async () => {
    const free = saturate();
    try {
      // More than the lockout's threshold, for the account and for an unknown one.
      for (let i = 0; i < 6; i += 1) {
        for (const email of ['alice@example.com', 'nobody@example.com']) {
          const refused = await login(email, 'a wrong guess');
          expect([refused.status, refused.body.error.code, refused.headers['retry-after']]).toEqual([503, 'SERVICE_UNAVAILABLE', '2']);
          expect(refused.body.error.details).toEqual({ service: ['busy'] });
        }
      }
      const right = await login('alice@example.com', PASSWORD);
      expect([right.status, right.body.error.code]).toEqual([503, 'SERVICE_UNAVAILABLE']);
    } finally {
      await free();
    }
    await t.settle();
    // Neither six failures (a lock) nor six places in flight (429): the right password signs in.
    await login('alice@example.com', PASSWORD).expect(200);
    // The unknown account's dummy hash, refused while being made, is made afresh: a plain wrong answer again.
    const unknown = await login('nobody@example.com', 'a wrong guess');
    expect([unknown.status, unknown.body.error.code]).toEqual([401, 'INVALID_CREDENTIALS']);
    // The refusals are the service's designed answer (counted by auth_password_hashing_refusals_total): logged at
    // info, not one error line each (an outside review, 2026-12-08: a login flood paged the operators).
    const refusals = logged.map((line) => JSON.parse(line) as { level: string; msg: string; status?: number }).filter((line) => line.status === 503);
    expect(refusals.map(({ level, msg }) => ({ level, msg }))).toEqual(Array.from({ length: 13 }, () => ({ level: 'info', msg: 'request completed' })));
  });

  /** A JSON POST on a socket of its own, so that destroying it is the client leaving; `answer` when it stays. */
  function post(port: number, path: string, body: object): { req: ClientRequest; answer: Promise<{ status: number; body: string }> } {
    const payload = JSON.stringify(body);
    const req = httpRequest({
      host: '127.0.0.1',
      port,
      path,
      method: 'POST',
      agent: false,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
    });
    const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
      req.on('response', (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      });
      req.on('error', reject);
    });
    answer.catch(() => undefined); // the ones destroyed on purpose reject: nobody awaits them
    req.end(payload);
    return { req, answer };
  }

  /** The service's port over real sockets (listened on once, by the first test that needs it). */
  let listeningOn: number | undefined;
  const listening = async () => (listeningOn ??= await t.app.listen());

  const scrape = async () => samplesOf((await t.http.get('/metrics').expect(200)).text);

  it('never hashes a login or registration whose client left while queued; the client that stays is answered', async () => {
    const port = await listening();
    const hasher = argon2();
    await t.settle(); // the bookkeeping of earlier failures counted before the first reading
    const before = await scrape();
    logged.length = 0;
    let release!: () => void;
    const holder = hasher.gate.run(() => new Promise<void>((resolve) => (release = resolve)));
    try {
      // Wrong guesses for unknown accounts (each would be a dummy verify and a failure) and new registrations.
      const logins = [0, 1, 2, 3].map((i) => post(port, '/api/v1/auth/login', { email: `ghost${i}@example.com`, password: 'a wrong guess' }));
      const registrations = [0, 1].map((i) => post(port, '/api/v1/auth/register', { email: `dropped${i}@example.com`, password: PASSWORD }));
      const dropped = [...logins, ...registrations];
      await eventually(() => hasher.gate.queued === dropped.length, 5_000, 'the dropped requests queued');
      const stays = post(port, '/api/v1/auth/login', { email: 'alice@example.com', password: PASSWORD });
      await eventually(() => hasher.gate.queued === dropped.length + 1, 5_000, 'the staying login queued');
      for (const { req } of dropped) req.destroy();
      // Their places freed at once, while the slot is still held: only the staying login still waits.
      await eventually(() => hasher.gate.queued === 1, 1_000, 'the dropped requests leaving the queue');
      release();
      const answer = await stays.answer;
      expect(answer.status).toBe(200);
      expect(JSON.parse(answer.body)).toMatchObject({ data: { user: { email: 'alice@example.com' } } });
    } finally {
      release();
      await holder;
    }
    await t.settle();
    const after = await scrape();
    const delta = (name: string, labels: Record<string, string>) => valueOf(after, name, labels) - valueOf(before, name, labels);
    // Six hashes skipped, counted as such; none ran: no failed login counted, no registration requested.
    expect(delta('auth_password_hashing_refusals_total', { reason: 'client_gone' })).toBe(6);
    expect(delta('auth_logins_total', { result: 'invalid_credentials' })).toBe(0);
    expect(delta('auth_logins_total', { result: 'success' })).toBe(1);
    await t.http.post('/api/v1/auth/register').send({ email: 'late@example.com', password: PASSWORD }).expect(202);
    await t.waitForMail('late@example.com');
    expect([t.mailer.inbox('dropped0@example.com'), t.mailer.inbox('dropped1@example.com')]).toEqual([[], []]);
    // Logged as a client gone (info, one line each), not as a failure of the service; no password in any line.
    const lines = logged.map((line) => JSON.parse(line) as { level: string; msg: string; status?: number; path?: string });
    const gone = lines.filter((line) => line.msg === 'client gone before the answer');
    expect(gone.map(({ level, status, path }) => ({ level, status, path })).sort((a, b) => (a.path ?? '').localeCompare(b.path ?? ''))).toEqual([
      ...Array.from({ length: 4 }, () => ({ level: 'info', status: 503, path: '/api/v1/auth/login' })),
      ...Array.from({ length: 2 }, () => ({ level: 'info', status: 503, path: '/api/v1/auth/register' })),
    ]);
    expect(lines.filter((line) => line.msg === 'request failed')).toEqual([]);
    expect(logged.join('\n')).not.toContain(PASSWORD);
    expect(logged.join('\n')).not.toContain('a wrong guess');
  });

  /**
   * An outside review (2026-12-08): a connection reset (RST, not FIN) before the answer reached Koa's onerror as
   * ECONNRESET, logged as `koa error` at error level with a stack: one paging line per connection, for anyone.
   */
  it('a client that resets its connection while its login waits is no error line', async () => {
    const port = await listening();
    const hasher = argon2();
    await t.settle();
    logged.length = 0;
    let release!: () => void;
    const holder = hasher.gate.run(() => new Promise<void>((resolve) => (release = resolve)));
    try {
      const resets = [0, 1, 2].map((i) => post(port, '/api/v1/auth/login', { email: `reset${i}@example.com`, password: 'a wrong guess' }));
      await eventually(() => hasher.gate.queued === resets.length, 5_000, 'the logins queued');
      for (const { req } of resets) req.socket!.resetAndDestroy();
      await eventually(() => hasher.gate.queued === 0, 2_000, 'the reset logins leaving the queue');
    } finally {
      release();
      await holder;
    }
    await t.settle();
    await eventually(() => logged.filter((line) => line.includes('"client gone before the answer"')).length === 3, 5_000, 'the three requests logged');
    const lines = logged.map((line) => JSON.parse(line) as { level: string; msg: string; stack?: string; err?: unknown });
    expect(lines.filter((line) => line.level === 'error' || line.level === 'fatal')).toEqual([]);
    expect(lines.filter((line) => line.msg === 'koa error')).toEqual([]);
  });

  it('never hashes the pipelined logins of a connection the client dropped, not only the one being answered', async () => {
    // An outside review: 20 wrong-password logins pipelined on one socket, destroyed at once, were all hashed
    // (Node tells only the response attached to the socket that it closed, not the ones queued behind it).
    const port = await listening();
    const hasher = argon2();
    await t.settle();
    const before = await scrape();
    logged.length = 0;
    const PIPELINED = 20;
    let release!: () => void;
    const holder = hasher.gate.run(() => new Promise<void>((resolve) => (release = resolve)));
    try {
      const payload = Array.from({ length: PIPELINED }, (_, i) => {
        const body = JSON.stringify({ email: `piped${i}@example.com`, password: 'a wrong guess' });
        return `POST /api/v1/auth/login HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
      }).join('');
      const socket = connect(port, '127.0.0.1', () => socket.write(payload));
      socket.on('error', () => undefined);
      await eventually(() => hasher.gate.queued === PIPELINED, 5_000, 'the pipelined logins queued');
      const stays = post(port, '/api/v1/auth/login', { email: 'alice@example.com', password: PASSWORD });
      await eventually(() => hasher.gate.queued === PIPELINED + 1, 5_000, 'the staying login queued');
      socket.destroy();
      // Not the verdict (the counts below are): only the staying login should be left waiting.
      await eventually(() => hasher.gate.queued === 1, 2_000, 'the dropped logins leaving the queue').catch(() => undefined);
      release();
      expect((await stays.answer).status).toBe(200);
    } finally {
      release();
      await holder;
    }
    await t.settle();
    const after = await scrape();
    const delta = (name: string, labels: Record<string, string>) => valueOf(after, name, labels) - valueOf(before, name, labels);
    expect(delta('auth_password_hashing_refusals_total', { reason: 'client_gone' })).toBe(PIPELINED);
    expect(delta('auth_logins_total', { result: 'invalid_credentials' })).toBe(0);
    expect(delta('auth_logins_total', { result: 'success' })).toBe(1);
    const lines = logged.map((line) => JSON.parse(line) as { level: string; msg: string; status?: number });
    expect(lines.filter((line) => line.msg === 'client gone before the answer').map(({ level, status }) => ({ level, status }))).toEqual(
      Array.from({ length: PIPELINED }, () => ({ level: 'info', status: 503 })),
    );
  });
});

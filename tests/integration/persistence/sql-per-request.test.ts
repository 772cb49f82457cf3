import { AsyncLocalStorage } from 'node:async_hooks';
import { Client } from 'pg';
import request from 'supertest';
import { NO_LIMITS, startSecureApp, type TestApp } from '../../support/app';
import { describeWhen, REAL_POSTGRES_SELECTED, REAL_REDIS_SELECTED } from '../../support/servers';

/**
 * The SQL one request sends to PostgreSQL (servers mode): every statement the request's own code issues,
 * BEGIN and COMMIT included (each one round trip), counted by wrapping pg's Client#query and attributing each
 * call to the HTTP request it runs for (AsyncLocalStorage around the Koa callback; background workers woken after
 * the commit run in their own context and are not counted). The bounds are the figures of README "SQL per
 * request": a change that adds a statement to these paths fails here. The lists are printed for the README.
 */
const statements = new AsyncLocalStorage<{ client: Client; sql: string; failed?: boolean }[]>();
const originalQuery = Client.prototype.query;

/** The statement with its column lists and subqueries elided, for the printed list. */
function shorten(sql: string): string {
  let text = sql.replace(/\s+/g, ' ').trim();
  for (let previous = ''; previous !== text; ) {
    previous = text;
    text = text.replace(/\([^()]*\)/g, '(…)');
  }
  text = text.replace(/^SELECT .* FROM /, 'SELECT … FROM ');
  text = text.replace(/ SET .*? WHERE /, ' SET … WHERE ');
  return text.length > 120 ? `${text.slice(0, 120)}…` : text;
}

/**
 * The relay, woken after the commit, inherits the request's context: its claim (a transaction whose SELECT has
 * SKIP LOCKED) and its marking of the rows it published are background work, not the request's: left out.
 */
function ownStatements(list: { client: Client; sql: string }[]): string[] {
  const background = new Set<number>();
  const open = new Map<Client, number[]>();
  list.forEach(({ client, sql }, i) => {
    const current = open.get(client);
    if (/^\s*(START TRANSACTION|BEGIN)/i.test(sql)) open.set(client, [i]);
    else current?.push(i);
    if (/SKIP LOCKED|^\s*UPDATE outbox_events/i.test(sql)) for (const j of current ?? [i]) background.add(j);
    if (/^\s*(COMMIT|ROLLBACK)/i.test(sql)) {
      if (current?.some((j) => background.has(j))) background.add(i);
      open.delete(client);
    }
  });
  // A transaction still open once the response has arrived is not the request's (its own have ended): the relay's.
  for (const indexes of open.values()) for (const j of indexes) background.add(j);
  return list.filter((_, i) => !background.has(i)).map(({ sql }) => sql);
}

describeWhen(REAL_POSTGRES_SELECTED && REAL_REDIS_SELECTED, 'PostgreSQL and Redis')('SQL statements per request (servers mode)', () => {
  let t: TestApp;
  let http: ReturnType<typeof request>;
  const report: string[] = [];

  beforeAll(async () => {
    Client.prototype.query = function (this: Client, ...args: unknown[]) {
      const first = args[0] as string | { text?: string };
      const text = typeof first === 'string' ? first : (first?.text ?? '');
      const entry: { client: Client; sql: string; failed?: boolean } = { client: this, sql: text };
      statements.getStore()?.push(entry);
      // Which statements PostgreSQL refused (each such refusal is an ERROR line in its log, with the key's value).
      const last = args.length - 1;
      const callback = args[last];
      if (typeof callback === 'function') {
        args[last] = (error: unknown, ...rest: unknown[]) => {
          if (error) entry.failed = true;
          return (callback as (...a: unknown[]) => unknown)(error, ...rest);
        };
      }
      const result = (originalQuery as (...a: unknown[]) => unknown).apply(this, args);
      if (result instanceof Promise) {
        result.then(undefined, () => {
          entry.failed = true;
        });
      }
      return result;
    } as typeof Client.prototype.query;
    t = await startSecureApp('servers', { ...NO_LIMITS, REQUIRE_EMAIL_VERIFICATION: 'false' });
    http = request(t.app.http.callback());
  });

  afterAll(async () => {
    Client.prototype.query = originalQuery;
    await t?.stop();
    if (report.length > 0) process.stdout.write(`${report.join('\n')}\n`);
  });

  /** The statements of the last counted request that PostgreSQL refused. */
  let lastFailed: string[] = [];
  /** The statements of the last counted request's work after its answer (DeferredWork: the session limit's check). */
  let lastAfter: string[] = [];

  /** Sends one request and returns the statements it issued. */
  async function counted(name: string, send: () => request.Test, status: number): Promise<string[]> {
    let list: { client: Client; sql: string; failed?: boolean }[] = [];
    const original = http;
    const callback = t.app.http.callback();
    http = request((req: Parameters<typeof callback>[0], res: Parameters<typeof callback>[1]) => {
      list = [];
      return statements.run(list, () => callback(req, res));
    });
    try {
      await send().expect(status);
    } finally {
      http = original;
    }
    lastFailed = list.filter((entry) => entry.failed).map((entry) => shorten(entry.sql));
    const own = ownStatements(list.slice());
    const seen = own.filter((sql) => !SESSION_LIMIT_CHECK.test(sql));
    lastAfter = own.filter((sql) => SESSION_LIMIT_CHECK.test(sql));
    const after = lastAfter.length > 0 ? ` (+ ${lastAfter.length} after the answer: the session limit's check)` : '';
    report.push(`${name}: ${seen.length} statements${after}`, ...seen.map((sql, i) => `  ${i + 1}. ${shorten(sql)}`));
    return seen;
  }

  const password = 'a long and unusual passphrase 9 owls';

  it('register, login and refresh stay within their statement budgets', async () => {
    const email = `sql-${Date.now()}@example.com`;
    const registered = await counted('register', () => http.post('/api/v1/auth/register').send({ email, password }), 201);
    // A sign-in's one check of SESSION_MAX_PER_USER runs after its answer (an account under the limit: one read).
    expect(lastAfter).toHaveLength(1);
    const login = await counted('login', () => http.post('/api/v1/auth/login').send({ email, password }), 200);
    expect(lastAfter).toHaveLength(1);
    expect(registered.length).toBeLessThanOrEqual(REGISTER_BUDGET);
    expect(login.length).toBeLessThanOrEqual(LOGIN_BUDGET);

    // The first refresh of a session has no previous token to retire; every later one has: measure the later one.
    const loggedIn = await http.post('/api/v1/auth/login').send({ email, password }).expect(200);
    let refreshToken = loggedIn.body.data.tokens.refresh_token as string;
    const first = await http.post('/api/v1/auth/refresh').send({ refresh_token: refreshToken }).expect(200);
    refreshToken = first.body.data.tokens.refresh_token as string;
    let next = '';
    const refreshed = await counted('refresh (rotation)', () => http.post('/api/v1/auth/refresh').send({ refresh_token: refreshToken }).expect((res) => {
      next = res.body.data?.tokens?.refresh_token ?? '';
    }), 200);
    expect(refreshed.length).toBeLessThanOrEqual(REFRESH_BUDGET);
    expect(next).not.toBe('');

    // The token just replaced, presented again inside the grace window (a concurrent tab): the same new token.
    const replayed = await counted('refresh (replay in the grace window)', () => http.post('/api/v1/auth/refresh').send({ refresh_token: refreshToken }).expect((res) => {
      expect(res.body.data?.tokens?.refresh_token).toBe(next);
    }), 200);
    expect(replayed.length).toBeLessThanOrEqual(REFRESH_BUDGET);

    // The token just replaced, presented again after the grace window: reuse, the session is revoked.
    t.clock.advance(60);
    const reuse = await counted('refresh (reuse detected)', () => http.post('/api/v1/auth/refresh').send({ refresh_token: refreshToken }), 401);
    expect(reuse.length).toBeGreaterThan(0);
    await http.post('/api/v1/auth/refresh').send({ refresh_token: next }).expect(401);
  });

  it('a registration with a taken email: 409 after two statements, neither refused by PostgreSQL', async () => {
    const email = `sql-taken-${Date.now()}@example.com`;
    await http.post('/api/v1/auth/register').send({ email, password }).expect(201);
    const again = await counted('register (email taken)', () => http.post('/api/v1/auth/register').send({ email, password }).expect((res) => {
      expect(res.body.error?.code).toBe('EMAIL_ALREADY_REGISTERED');
    }), 409);
    expect(again.length).toBeLessThanOrEqual(2);
    // A unique violation would put "Key (email)=(…) already exists" in the server's log on every attempt.
    expect(lastFailed).toEqual([]);
  });
});

/**
 * SessionLimit's check, deferred after a sign-in's answer (DeferredWork, which the request's context reaches): the
 * answer does not wait for it, so it is reported apart from the request's own statements.
 */
const SESSION_LIMIT_CHECK = /^\s*SELECT 1 FROM sessions WHERE user_id = \$1 AND revoked_at IS NULL AND expires_at > \$2\s+ORDER BY created_at DESC, id ASC OFFSET \$3 LIMIT 1\s*$/;

/** Upper bounds (see README "SQL per request"). */
const REFRESH_BUDGET = 2;
const LOGIN_BUDGET = 2;
const REGISTER_BUDGET = 1;

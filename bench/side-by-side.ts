/**
 * `npm run bench:better-auth`: the service and Better Auth 1.7.25 side by side, in one run, on one machine, with
 * one driver (autocannon in this process), each on its own scratch database of DATABASE_URL's server (required):
 * the comparison issue 13's table was drawn from, its "token issue >= 2x Better Auth's /token" target included.
 *
 * Better Auth runs from bench/better-auth (its own package and lockfile, kept out of the service's dependencies;
 * the npm script installs it with `npm ci`), configured as bench/better-auth/server.mjs says. The service runs as
 * `npm run bench` starts it (harness.ts: the same flags, glibc settings and unreachable quotas; REDIS_URL and
 * AMQP_URL when set). A bare Koa hello-world is measured first, as the HTTP ceiling of the reads.
 *
 * The pairs, each with the connections `npm run bench` uses for its kind:
 *  - register: POST /api/v1/auth/register | POST /api/auth/sign-up/email (a new user per request);
 *  - login: POST /api/v1/auth/login | POST /api/auth/sign-in/email (one user per connection);
 *  - token issue: POST /api/v1/auth/refresh (rotation, reuse detection, the outbox) | GET /api/auth/token (a JWT
 *    for the bearer's session; one session per connection on both sides);
 *  - validate: GET /api/v1/auth/validate | GET /api/auth/get-session (a bearer token);
 *  - jwks: GET /.well-known/jwks.json | GET /api/auth/jwks.
 * Each pair is measured BENCH_ROUNDS times (default 2), the two sides taking turns and the side that goes first
 * alternating, so a drift of the machine's speed falls on both; a row sums its rounds. BENCH_DURATION (s per
 * measurement, default 10), BENCH_ONLY=refresh,validate (pairs by the service's scenario name).
 */
import { type ChildProcess, fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { envNumber, forkScript, scratchDatabase, startService, treeCpuMs } from './harness';
import { json, loginPerConnection, PASSWORD, type Scenario, scenarios } from './scenarios';

const DURATION = envNumber('BENCH_DURATION', 10);
const WARMUP = Math.min(2, DURATION / 5);
const ROUNDS = Math.round(envNumber('BENCH_ROUNDS', 2));
const READ_CONNECTIONS = envNumber('BENCH_CONNECTIONS_READ', 50);
const HASH_CONNECTIONS = envNumber('BENCH_CONNECTIONS_HASH', 8);
const BETTER_AUTH_DIR = join(__dirname, '..', '..', 'bench', 'better-auth');

type Request = autocannon.Request;

interface Side {
  name: 'auth-service' | 'Better Auth';
  base: string;
  pid: number;
}

/** What one pair measures on Better Auth: its request, prepared against its base URL. */
interface BetterAuthScenario {
  route: string;
  prepare(base: string, connections: number): Promise<{ request: Request }>;
}

interface Pair {
  /** The service's scenario (scenarios.ts) by name. */
  ours: string;
  label: string;
  hashBound: boolean;
  /** A read: warmed up before it is measured. Never token issue: a warm-up stopped mid-request would leave a
   * rotated refresh token unseen, and its next use is reuse (the family revoked). */
  read?: boolean;
  theirs: BetterAuthScenario;
  /** The target for the ratio, when it sets one. */
  target?: number;
}

/** Better Auth (NODE_ENV=production) refuses a POST without an Origin: the bench sends its own base URL, as its browser client would. */
let userCounter = 0;
const newEmail = () => `ba-${process.pid}-${Date.now()}-${++userCounter}@example.com`;

/** A Better Auth user signed up, with its bearer session token (the bearer plugin's `set-auth-token`). */
async function signUp(base: string): Promise<{ email: string; token: string }> {
  const email = newEmail();
  const response = await fetch(`${base}/api/auth/sign-up/email`, {
    method: 'POST',
    headers: { ...json, origin: base },
    body: JSON.stringify({ email, password: PASSWORD, name: 'bench' }),
  });
  const token = response.headers.get('set-auth-token');
  const text = await response.text();
  if (!response.ok || !token) throw new Error(`Better Auth sign-up: ${response.status} ${text}`);
  return { email, token };
}

/** One Better Auth user per connection: each connection takes the next one on its first request. */
async function usersPerConnection(base: string, connections: number) {
  const users = await Promise.all(Array.from({ length: connections }, () => signUp(base)));
  let next = 0;
  return () => users[next++ % users.length]!;
}

function bearerPerConnection(path: string): BetterAuthScenario {
  return {
    route: `GET ${path}`,
    async prepare(base, connections) {
      const take = await usersPerConnection(base, connections);
      return {
        request: {
          method: 'GET',
          path,
          setupRequest: (req: Request, context: object) => {
            const ctx = context as { token?: string };
            ctx.token ??= take().token;
            return { ...req, headers: { authorization: `Bearer ${ctx.token}` } };
          },
        },
      };
    },
  };
}

const pairs: Pair[] = [
  {
    ours: 'register',
    label: 'register',
    hashBound: true,
    theirs: {
      route: 'POST /api/auth/sign-up/email',
      async prepare(base) {
        await signUp(base);
        return {
          request: {
            method: 'POST',
            path: '/api/auth/sign-up/email',
            headers: { ...json, origin: base },
            setupRequest: (req: Request) => ({ ...req, body: JSON.stringify({ email: newEmail(), password: PASSWORD, name: 'bench' }) }),
          },
        };
      },
    },
  },
  {
    ours: 'login',
    label: 'login',
    hashBound: true,
    theirs: {
      route: 'POST /api/auth/sign-in/email',
      async prepare(base, connections) {
        return { request: loginPerConnection('/api/auth/sign-in/email', { ...json, origin: base }, await usersPerConnection(base, connections)) };
      },
    },
  },
  { ours: 'refresh', label: 'token issue (refresh | /token)', hashBound: false, theirs: bearerPerConnection('/api/auth/token'), target: 2 },
  { ours: 'validate', label: 'validate (| get-session)', hashBound: false, read: true, theirs: bearerPerConnection('/api/auth/get-session') },
  {
    ours: 'jwks',
    label: 'jwks',
    hashBound: false,
    read: true,
    theirs: {
      route: 'GET /api/auth/jwks',
      async prepare() {
        return { request: { method: 'GET', path: '/api/auth/jwks' } };
      },
    },
  },
];

interface Measured {
  requests: number;
  seconds: number;
  p50: number;
  cpuMs: number;
  errors: number;
  non2xx: number;
}

async function measure(side: Side, connections: number, prepare: () => Promise<{ request: Request }>, warm: boolean): Promise<Measured> {
  const { request } = await prepare();
  if (warm) await autocannon({ url: side.base, connections, duration: WARMUP, requests: [request] });
  const cpuBefore = treeCpuMs(side.pid);
  const r = await autocannon({ url: side.base, connections, duration: DURATION, requests: [request] });
  return {
    requests: r.requests.total,
    seconds: DURATION,
    p50: r.latency.p50,
    cpuMs: treeCpuMs(side.pid) - cpuBefore,
    errors: r.errors + r.timeouts,
    non2xx: r.non2xx,
  };
}

/** Better Auth's server (bench/better-auth/server.mjs) on its own scratch database; resolves once it listens. */
async function startBetterAuth(serverUrl: string): Promise<{ side: Side; stop(): Promise<void> }> {
  const scratch = await scratchDatabase(serverUrl);
  const child: ChildProcess = fork(join(BETTER_AUTH_DIR, 'server.mjs'), [], {
    env: { ...process.env, DATABASE_URL: scratch.url, NODE_ENV: 'production' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    await scratch.drop();
  };
  try {
    const { port } = await new Promise<{ port: number }>((resolve, reject) => {
      child.once('message', (m) => resolve(m as { port: number }));
      child.once('exit', (code) => reject(new Error(`Better Auth exited with ${code} before listening`)));
    });
    return { side: { name: 'Better Auth', base: `http://127.0.0.1:${port}`, pid: child.pid! }, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function main(): Promise<void> {
  const serverUrl = process.env.DATABASE_URL;
  if (!serverUrl) throw new Error('DATABASE_URL is required: Better Auth runs on PostgreSQL');
  if (!existsSync(join(BETTER_AUTH_DIR, 'node_modules', 'better-auth'))) {
    throw new Error('Better Auth is not installed: run `npm ci --prefix bench/better-auth` (npm run bench:better-auth does)');
  }
  const only = process.env.BENCH_ONLY?.split(',').map((s) => s.trim());
  const selected = pairs.filter((p) => !only || only.includes(p.ours));
  if (selected.length === 0) throw new Error(`BENCH_ONLY matches no pair (${pairs.map((p) => p.ours).join(', ')})`);
  const say = (line: string) => process.stdout.write(`${line}\n`);
  say(`side by side: node ${process.version}, ${DURATION} s per measurement, ${ROUNDS} rounds, ${READ_CONNECTIONS} connections for reads and token issue, ${HASH_CONNECTIONS} for register and login`);

  const koa = forkScript<{ port: number }>('koa-hello', []);
  const koaBase = `http://127.0.0.1:${(await koa.message).port}`;
  const hello = { method: 'GET', path: '/' } as const;
  await autocannon({ url: koaBase, connections: READ_CONNECTIONS, duration: WARMUP, requests: [hello] });
  const koaRun = await autocannon({ url: koaBase, connections: READ_CONNECTIONS, duration: DURATION, requests: [hello] });
  koa.child.kill('SIGTERM');
  const koaRps = Math.round(koaRun.requests.average);
  say(`ceiling: bare Koa hello-world ${koaRps} req/s (${READ_CONNECTIONS} connections)`);

  const betterAuth = await startBetterAuth(serverUrl);
  const service = await startService();
  say(`auth-service: ${service.backend}; Better Auth 1.7.25: PostgreSQL (scratch database), bearer + jwt plugins`);
  const ours: Side = { name: 'auth-service', base: service.base, pid: service.pid };
  const rows: Record<string, string | number>[] = [];
  try {
    for (const pair of selected) {
      const scenario: Scenario | undefined = scenarios.find((s) => s.name === pair.ours);
      if (!scenario) throw new Error(`no scenario ${pair.ours}`);
      const connections = pair.hashBound ? HASH_CONNECTIONS : READ_CONNECTIONS;
      const results: Record<Side['name'], Measured[]> = { 'auth-service': [], 'Better Auth': [] };
      for (let round = 0; round < ROUNDS; round += 1) {
        const order: Side[] = round % 2 === 0 ? [ours, betterAuth.side] : [betterAuth.side, ours];
        for (const side of order) {
          const prepare = side === ours ? () => scenario.prepare(side.base, connections) : () => pair.theirs.prepare(side.base, connections);
          results[side.name].push(await measure(side, connections, prepare, pair.read === true));
        }
      }
      rows.push(row(pair, connections, results, koaRps));
      say(`${pair.label}: done`);
    }
  } finally {
    await service.stop();
    await betterAuth.stop();
  }
  console.table(rows);
}

function row(pair: Pair, connections: number, results: Record<Side['name'], Measured[]>, koaRps: number): Record<string, string | number> {
  const total = (list: Measured[], pick: (m: Measured) => number) => list.reduce((sum, m) => sum + pick(m), 0);
  const rps = (list: Measured[]) => total(list, (m) => m.requests) / total(list, (m) => m.seconds);
  const cpuUs = (list: Measured[]) => Math.round((total(list, (m) => m.cpuMs) * 1000) / Math.max(1, total(list, (m) => m.requests)));
  const meanP50 = (list: Measured[]) => Math.round(total(list, (m) => m.p50) / list.length);
  const ourList = results['auth-service'];
  const theirList = results['Better Auth'];
  const ratio = rps(ourList) / Math.max(rps(theirList), 1e-9);
  return {
    scenario: pair.label,
    conns: connections,
    'Better Auth req/s': Math.round(rps(theirList)),
    'auth-service req/s': Math.round(rps(ourList)),
    ratio: `${ratio.toFixed(1)}x`,
    target: pair.target === undefined ? '-' : `>= ${pair.target}x: ${ratio >= pair.target ? 'met' : 'not met'}`,
    rounds: ourList.map((m, i) => `${(m.requests / Math.max(1, theirList[i]!.requests)).toFixed(1)}x`).join(' '),
    'p50 ms (BA / ours)': `${meanP50(theirList)} / ${meanP50(ourList)}`,
    'CPU µs/req (BA / ours)': `${cpuUs(theirList)} / ${cpuUs(ourList)}`,
    'share of Koa (BA / ours)': pair.hashBound ? '-' : `${Math.round((rps(theirList) / koaRps) * 100)}% / ${Math.round((rps(ourList) / koaRps) * 100)}%`,
    'errors + non-2xx (BA / ours)': `${total(theirList, (m) => m.errors + m.non2xx)} / ${total(ourList, (m) => m.errors + m.non2xx)}`,
  };
}

main().catch((error: unknown) => {
  process.stderr.write(`side by side failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});

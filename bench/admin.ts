/**
 * `npm run bench:admin` (issue 12): the admin API at scale. Seeds BENCH_ADMIN_USERS users (default 10^6) by one
 * bulk INSERT ... SELECT FROM generate_series per 100 000 rows (never through the HTTP API; the trigram index
 * (one, over the search text) is dropped for the load and rebuilt after, as a bulk load would), then starts the service on that database
 * and measures GET /admin/users with search terms and GET /admin/stats: p50 / p95 / p99 over
 * BENCH_ADMIN_REQUESTS requests (default 300) per query, BENCH_ADMIN_CONCURRENCY (default 4) at a time.
 * Needs DATABASE_URL (a scratch database is created on that server and dropped afterwards). BENCH_ADMIN_KEEP=name
 * uses the database `name` instead and keeps it (with its DATA_DIR): seeded on the first run, reused as it is on
 * the next ones.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { scratchBroker } from './harness';
import { USER_SEARCH_TEXT } from '../migrations/1764540000000-growth-indexes';
import { INACTIVE_USERS } from '../migrations/1764550000000-inactive-search-index';

const USERS = Number(process.env.BENCH_ADMIN_USERS ?? 1_000_000);
const REQUESTS = Number(process.env.BENCH_ADMIN_REQUESTS ?? 300);
const CONCURRENCY = Number(process.env.BENCH_ADMIN_CONCURRENCY ?? 4);
const BATCH = 100_000;
const PASSWORD = 'bench password that is long enough';
const FIRST = ['Anna', 'Ben', 'Carla', 'David', 'Eva', 'Felix', 'Greta', 'Hugo', 'Ines', 'Jonas', 'Klara', 'Leon', 'Mia', 'Noah', 'Olga', 'Paul', 'Quinn', 'Rosa', 'Sami', 'Tara'];
const LAST = ['Schmidt', 'Garcia', 'Nguyen', 'Okafor', 'Rossi', 'Kowalski', 'Ramirez', 'Novak', 'Haddad', 'Tanaka', 'Dubois', 'Silva', 'Jensen', 'Murphy', 'Ivanova', 'Kim', 'Patel', 'Cohen', 'Larsen', 'Moreau'];

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

async function withClient<T>(url: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** With AMQP_URL: an exchange and queues of the bench's own, deleted at the end (harness.ts, scratchBroker). */
const BROKER = process.env.AMQP_URL ? scratchBroker(process.env.AMQP_URL) : null;

async function startService(port: number, dataDir: string, databaseUrl: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [join(__dirname, '..', 'src', 'main.js')], {
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'warn', MIGRATE_ON_START: 'true', DATABASE_URL: databaseUrl, REQUIRE_EMAIL_VERIFICATION: 'false', REDIS_KEY_PREFIX: `bench-admin:${process.pid}:`, ...BROKER?.env },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`service exited with ${child.exitCode}`);
    if (await fetch(`http://127.0.0.1:${port}/health/ready`).then((r) => r.ok, () => false)) return child;
    await new Promise((r) => setTimeout(r, 200));
  }
  child.kill('SIGTERM');
  throw new Error('service did not become ready');
}

/**
 * Sign-up day of user g. BENCH_ADMIN_BUNCHED=true takes it from g itself, which bunches every last name on 20
 * days of the 400 (the worst case for a broad search's page, see README); by default from a hash of g.
 */
const DAYS = process.env.BENCH_ADMIN_BUNCHED === 'true' ? 'g % 400' : 'abs(hashtext(g::text)) % 400';

/** Users with realistic spread: 20 first and 20 last names, statuses, 400 days of sign-ups, a third with usernames. */
async function seed(client: Client): Promise<number> {
  const started = Date.now();
  await client.query('DROP INDEX IF EXISTS users_search_trgm_idx');
  await client.query('DROP INDEX IF EXISTS users_inactive_search_trgm_idx');
  const list = (values: string[]) => `(ARRAY[${values.map((v) => `'${v}'`).join(',')}])`;
  for (let from = 1; from <= USERS; from += BATCH) {
    const to = Math.min(USERS, from + BATCH - 1);
    await client.query(
      `INSERT INTO users (id, email, username, first_name, last_name, status, email_verified, roles, mfa_enabled, failed_attempts, created_at, updated_at, last_login_at)
       SELECT gen_random_uuid(),
         lower(${list(FIRST)}[1 + g % 20] || '.' || ${list(LAST)}[1 + (g / 20) % 20]) || '.' || g || '@example' || (g % 50) || '.com',
         CASE WHEN g % 3 = 0 THEN 'u' || g ELSE NULL END,
         ${list(FIRST)}[1 + g % 20], ${list(LAST)}[1 + (g / 20) % 20],
         CASE WHEN g % 20 = 0 THEN 'suspended' WHEN g % 7 = 0 THEN 'pending_verification' ELSE 'active' END,
         g % 7 <> 0, ARRAY['user'], false, 0,
         now() - (${DAYS}) * interval '1 day' - (g % 86400) * interval '1 second',
         now() - (${DAYS}) * interval '1 day',
         CASE WHEN g % 2 = 0 THEN now() - (g % 30) * interval '1 day' ELSE NULL END
       FROM generate_series($1::int, $2::int) AS g`,
      [from, to],
    );
    process.stdout.write(`  seeded ${to} users\n`);
  }
  await client.query(`CREATE INDEX IF NOT EXISTS users_search_trgm_idx ON users USING gin (${USER_SEARCH_TEXT} gin_trgm_ops)`);
  await client.query(`CREATE INDEX IF NOT EXISTS users_inactive_search_trgm_idx ON users USING gin (${USER_SEARCH_TEXT} gin_trgm_ops) WHERE ${INACTIVE_USERS}`);
  await client.query('ANALYZE users');
  return Date.now() - started;
}

async function measure(name: string, next: () => string, token: string, base: string) {
  const times: number[] = [];
  let failures = 0;
  let issued = 0;
  const worker = async () => {
    while (issued < REQUESTS) {
      issued += 1;
      const started = performance.now();
      const response = await fetch(`${base}${next()}`, { headers: { authorization: `Bearer ${token}` } });
      await response.arrayBuffer();
      times.push(performance.now() - started);
      if (!response.ok) failures += 1;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  times.sort((a, b) => a - b);
  const at = (p: number) => Math.round(times[Math.min(times.length - 1, Math.floor((p / 100) * times.length))]! * 10) / 10;
  return { query: name, requests: times.length, failures, 'p50 ms': at(50), 'p95 ms': at(95), 'p99 ms': at(99) };
}

async function main(): Promise<void> {
  const server = process.env.DATABASE_URL;
  if (!server) throw new Error('DATABASE_URL is required (10^6 users are for PostgreSQL; PGlite scans)');
  const keep = process.env.BENCH_ADMIN_KEEP;
  if (keep !== undefined && !/^[a-z_][a-z0-9_]*$/.test(keep)) throw new Error('BENCH_ADMIN_KEEP must be a plain database name');
  const name = keep ?? `auth_bench_admin_${process.pid}`;
  const exists = await withClient(server, async (c) => (await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount === 1);
  if (!exists) await withClient(server, (c) => c.query(`CREATE DATABASE ${name}`));
  const url = new URL(server);
  url.pathname = `/${name}`;
  const port = await freePort();
  // A kept database keeps its DATA_DIR too: the signing keys in it are sealed with the key file there.
  const dataDir = keep ? join(tmpdir(), `auth-bench-admin-${keep}`) : mkdtempSync(join(tmpdir(), 'auth-bench-admin-'));
  mkdirSync(dataDir, { recursive: true });
  const base = `http://127.0.0.1:${port}`;
  let service: ChildProcess | null = null;
  try {
    service = await startService(port, dataDir, url.toString());
    const trigram = await withClient(url.toString(), async (c) => (await c.query(`SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'`)).rowCount === 1);
    process.stdout.write(`admin bench: ${USERS} users, pg_trgm ${trigram ? 'installed' : 'NOT available (search scans)'}\n`);
    const present = await withClient(url.toString(), async (c) => Number((await c.query<{ n: string }>('SELECT count(*) AS n FROM users')).rows[0]!.n));
    if (present >= USERS) {
      process.stdout.write(`reusing ${name}: ${present} users already there\n`);
    } else {
      const seedMs = await withClient(url.toString(), seed);
      process.stdout.write(`seeded in ${(seedMs / 1000).toFixed(1)} s (bulk INSERT ... SELECT, trigram index rebuilt after)\n`);
    }
    const email = `bench-admin-${process.pid}@example.com`;
    const registered = await fetch(`${base}/api/v1/auth/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password: PASSWORD }) });
    if (!registered.ok) throw new Error(`register: ${registered.status}`);
    await withClient(url.toString(), (c) => c.query(`UPDATE users SET roles = ARRAY['user','admin'] WHERE email = $1`, [email]));
    const token = ((await registered.json()) as { data: { tokens: { access_token: string } } }).data.tokens.access_token;
    const statsSql = await withClient(url.toString(), async (c) => {
      const started = performance.now();
      await c.query(`SELECT count(*), count(*) FILTER (WHERE status = 'active'), count(*) FILTER (WHERE email_verified), count(*) FILTER (WHERE created_at >= now() - interval '1 day') FROM users`);
      return Math.round(performance.now() - started);
    });
    const random = (n: number) => 1 + Math.floor(Math.random() * n);
    const rows = [
      await measure('search: one email (user number)', () => `/api/v1/admin/users?search=.${random(USERS)}%40`, token, base),
      await measure('search: email fragment (123@ex)', () => `/api/v1/admin/users?search=${random(999)}%40ex`, token, base),
      await measure('search: last name (5% of users)', () => `/api/v1/admin/users?search=${LAST[random(20) - 1]!.toLowerCase()}`, token, base),
      await measure('search + status + role, page 3', () => `/api/v1/admin/users?search=${FIRST[random(20) - 1]}&status=suspended&role=user&page=3`, token, base),
      await measure('list, no search, sorted by email', () => `/api/v1/admin/users?sort=email&order=asc&page=${random(50)}`, token, base),
      await measure('stats (computed at most every 5 s)', () => '/api/v1/admin/stats', token, base),
    ];
    console.table(rows);
    process.stdout.write(`one uncached stats computation (the SQL alone): ${statsSql} ms\n`);
  } finally {
    if (service) {
      service.kill('SIGTERM');
      await new Promise((r) => service!.once('exit', r));
    }
    await BROKER?.drop();
    if (keep === undefined) rmSync(dataDir, { recursive: true, force: true });
    if (keep === undefined) await withClient(server, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`admin bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});

/**
 * `npm run bench:growth` (issue 13, Growth): the same requests at 10^3 and 10^6 users. For each size in
 * BENCH_GROWTH_SIZES (default 1000,1000000) it creates a scratch database on DATABASE_URL's server, starts the
 * service on it (migrations run; REDIS_URL / AMQP_URL are passed on when set), seeds N users with a password
 * (one argon2id hash, computed once, shared by every seeded user), N sessions (a fifth of them expired) and
 * BENCH_GROWTH_AUDIT_PER_USER (10) x N audit rows, each table by one INSERT ... SELECT FROM generate_series per
 * BENCH_GROWTH_BATCH rows (never through the HTTP API) with the secondary indexes dropped and rebuilt after the
 * load (see withoutIndexes), then VACUUM ANALYZE (what autovacuum does for a live
 * database), then measures each scenario with autocannon, BENCH_GROWTH_CONNECTIONS (4) connections for
 * BENCH_DURATION (5) seconds. Prints the seeding times, one table per size and the ratio of the largest size to
 * the smallest (p50).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import argon2 from 'argon2';
import autocannon from 'autocannon';
import { Client } from 'pg';
import { scratchBroker } from './harness';

const SIZES = (process.env.BENCH_GROWTH_SIZES ?? '1000,1000000').split(',').map(Number);
const AUDIT_PER_USER = Number(process.env.BENCH_GROWTH_AUDIT_PER_USER ?? 10);
const BATCH = Number(process.env.BENCH_GROWTH_BATCH ?? 1_000_000);
const CONNECTIONS = Number(process.env.BENCH_GROWTH_CONNECTIONS ?? 4);
const DURATION = Number(process.env.BENCH_DURATION ?? 5);
const PASSWORD = 'bench password that is long enough';
const FIRST = ['Anna', 'Ben', 'Carla', 'David', 'Eva', 'Felix', 'Greta', 'Hugo', 'Ines', 'Jonas', 'Klara', 'Leon', 'Mia', 'Noah', 'Olga', 'Paul', 'Quinn', 'Rosa', 'Sami', 'Tara'];
const LAST = ['Schmidt', 'Garcia', 'Nguyen', 'Okafor', 'Rossi', 'Kowalski', 'Ramirez', 'Novak', 'Haddad', 'Tanaka', 'Dubois', 'Silva', 'Jensen', 'Murphy', 'Ivanova', 'Kim', 'Patel', 'Cohen', 'Larsen', 'Moreau'];
const AUDIT_TYPES = ['login.succeeded', 'login.failed', 'token.refreshed', 'session.revoked', 'password.changed'];
const UNREACHABLE_RATE_LIMITS = Object.fromEntries(
  ['LOGIN', 'REGISTER', 'VERIFY', 'PASSWORD_RESET', 'REFRESH'].flatMap((group) => [
    [`RATE_LIMIT_${group}_IP`, '100000/1s'],
    [`RATE_LIMIT_${group}_ID`, '100000/1s'],
  ]),
);
const json = { 'content-type': 'application/json' };

/** The seeded user number g's address (the same expression as the SQL below). */
const emailOf = (g: number) => `${FIRST[g % 20]!.toLowerCase()}.${LAST[Math.floor(g / 20) % 20]!.toLowerCase()}.${g}@example${g % 50}.com`;
const random = (n: number) => 1 + Math.floor(Math.random() * n);
/** A random seeded user who may log in (one in fifty is suspended: g % 50 = 1). */
const activeUser = (n: number): number => {
  const g = random(n);
  return g % 50 === 1 ? activeUser(n) : g;
};

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
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      LOG_LEVEL: 'warn',
      MIGRATE_ON_START: 'true',
      DATABASE_URL: databaseUrl,
      REQUIRE_EMAIL_VERIFICATION: 'false',
      ...UNREACHABLE_RATE_LIMITS,
      REDIS_KEY_PREFIX: `bench-growth:${process.pid}:${port}:`,
      ...BROKER?.env,
    },
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

const list = (values: string[]) => `(ARRAY[${values.map((v) => `'${v}'`).join(',')}])`;
/** Seeded user g's id: derived from g, so sessions and audit rows refer to users without a lookup. */
const idOf = (g: string) => `overlay(overlay(md5('growth-user-' || ${g}) placing '4' from 13) placing '8' from 17)::uuid`;

async function timed(client: Client, label: string, total: number, insert: (from: number, to: number) => string, times: Record<string, number>): Promise<void> {
  const started = Date.now();
  for (let from = 1; from <= total; from += BATCH) {
    const to = Math.min(total, from + BATCH - 1);
    await client.query(insert(from, to));
    process.stdout.write(`  ${label}: ${to} rows, ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
  }
  times[label] = (Date.now() - started) / 1000;
}

/**
 * Users (with their password rows), sessions and audit rows, by bulk SQL. Returns seconds per table. Sign-up
 * dates come from a hash of g, not from g itself, so names are not bunched by date (they are not in life).
 */
/**
 * A bulk load's usual shape: the tables' secondary indexes (and audit_events' primary key, which no foreign key
 * references) are dropped before the load and built again after it from their own definitions, as
 * `pg_restore` does: one sorted build per index instead of 10^7 random inserts into each (which took 27 min for
 * the audit rows with the indexes in place). What is built is what the migrations made, read back from the
 * catalog, so the measured schema is the real one.
 */
async function withoutIndexes(client: Client, tables: string[], times: Record<string, number>, load: () => Promise<void>): Promise<void> {
  const { rows: indexes } = await client.query<{ name: string; definition: string }>(
    `SELECT i.indexname AS name, i.indexdef AS definition FROM pg_indexes i
     WHERE i.schemaname = current_schema() AND i.tablename = ANY($1)
       AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname AND c.conrelid = (quote_ident(i.tablename))::regclass)`,
    [tables],
  );
  const { rows: keys } = await client.query<{ table: string; name: string; definition: string }>(
    `SELECT c.conrelid::regclass::text AS table, c.conname AS name, pg_get_constraintdef(c.oid) AS definition FROM pg_constraint c
     WHERE c.conrelid::regclass::text = ANY($1) AND c.contype IN ('p', 'u')
       AND NOT EXISTS (SELECT 1 FROM pg_constraint f WHERE f.contype = 'f' AND f.confrelid = c.conrelid)`,
    [tables],
  );
  for (const index of indexes) await client.query(`DROP INDEX ${index.name}`);
  for (const key of keys) await client.query(`ALTER TABLE ${key.table} DROP CONSTRAINT ${key.name}`);
  await load();
  const started = Date.now();
  await client.query(`SET maintenance_work_mem = '512MB'`);
  for (const key of keys) await client.query(`ALTER TABLE ${key.table} ADD CONSTRAINT ${key.name} ${key.definition}`);
  for (const index of indexes) await client.query(index.definition);
  times['indexes rebuilt'] = (Date.now() - started) / 1000;
  process.stdout.write(`  ${indexes.length} indexes and ${keys.length} keys rebuilt in ${times['indexes rebuilt'].toFixed(0)} s\n`);
}

async function seed(client: Client, n: number, hash: string): Promise<Record<string, number>> {
  const times: Record<string, number> = {};
  await withoutIndexes(client, ['users', 'user_credentials', 'sessions', 'audit_events'], times, () => seedRows(client, n, hash, times));
  const started = Date.now();
  await client.query('VACUUM ANALYZE users, user_credentials, sessions, audit_events');
  times['vacuum analyze'] = (Date.now() - started) / 1000;
  return times;
}

async function seedRows(client: Client, n: number, hash: string, times: Record<string, number>): Promise<void> {
  await timed(client, 'users', n, (from, to) => `
    INSERT INTO users (id, email, username, first_name, last_name, status, email_verified, roles, mfa_enabled, failed_attempts, created_at, updated_at, last_login_at)
    SELECT ${idOf('g')},
      lower(${list(FIRST)}[1 + g % 20] || '.' || ${list(LAST)}[1 + (g / 20) % 20]) || '.' || g || '@example' || (g % 50) || '.com',
      CASE WHEN g % 3 = 0 THEN 'u' || g ELSE NULL END,
      ${list(FIRST)}[1 + g % 20], ${list(LAST)}[1 + (g / 20) % 20],
      CASE WHEN g % 50 = 1 THEN 'suspended' ELSE 'active' END,
      true, ARRAY['user'], false, 0,
      now() - (abs(hashtext(g::text)) % 400) * interval '1 day' - (g % 86400) * interval '1 second',
      now() - (abs(hashtext(g::text)) % 400) * interval '1 day',
      CASE WHEN g % 2 = 0 THEN now() - (g % 30) * interval '1 day' ELSE NULL END
    FROM generate_series(${from}, ${to}) AS g`, times);
  await timed(client, 'passwords', n, (from, to) => `
    INSERT INTO user_credentials (user_id, type, secret, data, created_at, updated_at)
    SELECT ${idOf('g')}, 'password', '${hash}', jsonb_build_object('changed_at', '2026-01-01T00:00:00.000Z'), now(), now()
    FROM generate_series(${from}, ${to}) AS g`, times);
  // One session per user: four in five live, one in five expired over a week ago (what purge-expired deletes).
  await timed(client, 'sessions', n, (from, to) => `
    INSERT INTO sessions (id, user_id, refresh_token_hash, sealed_refresh_token, amr, created_at, last_used_at, expires_at, absolute_expires_at, revoked_at, ip, user_agent)
    SELECT md5('growth-session-' || g)::uuid, ${idOf('g')}, md5('growth-refresh-' || g), 'sealed', ARRAY['pwd'],
      now() - (g % 30) * interval '1 day', now() - (g % 7) * interval '1 hour',
      CASE WHEN g % 5 = 0 THEN now() - interval '8 days' ELSE now() + interval '7 days' END,
      now() + interval '30 days', NULL, '203.0.113.' || (g % 250), 'Mozilla/5.0 (bench)'
    FROM generate_series(${from}, ${to}) AS g`, times);
  // AUDIT_PER_USER rows per user, in the order they happened (as a live service appends them) over 400 days;
  // user g's are rows g, g + n, g + 2n, ... Ids are random (v4), as the service's.
  const total = n * AUDIT_PER_USER;
  await timed(client, 'audit_events', total, (from, to) => `
    INSERT INTO audit_events (id, occurred_at, type, outcome, actor_id, subject_id, ip, user_agent, request_id, reason)
    SELECT gen_random_uuid(), now() - interval '400 days' + g * (interval '400 days' / ${total}),
      ${list(AUDIT_TYPES)}[1 + g % ${AUDIT_TYPES.length}], CASE WHEN g % 5 = 1 THEN 'failure' ELSE 'success' END,
      NULL, ${idOf(`(1 + (g - 1) % ${n})`)}, '203.0.113.' || (g % 250), 'Mozilla/5.0 (bench)', NULL, NULL
    FROM generate_series(${from}, ${to}) AS g`, times);
}

async function call(base: string, path: string, body?: unknown, token?: string) {
  const response = await fetch(`${base}${path}`, {
    method: body ? 'POST' : 'GET',
    headers: { ...json, ...(token ? { authorization: `Bearer ${token}` } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const parsed = (await response.json()) as { data?: { tokens?: { access_token: string; refresh_token: string } } };
  if (!response.ok) throw new Error(`${path}: ${response.status} ${JSON.stringify(parsed)}`);
  return parsed.data?.tokens ?? { access_token: '', refresh_token: '' };
}

type Request = autocannon.Request;
interface Scenario {
  name: string;
  request: Request;
}

async function scenarios(base: string, n: number, adminToken: string): Promise<Scenario[]> {
  // Seeded users log in through the API: their password rows are the seeded hash.
  const sessions: { access_token: string; refresh_token: string }[] = [];
  for (let c = 0; c < CONNECTIONS; c += 1) sessions.push(await call(base, '/api/v1/auth/login', { email: emailOf(activeUser(n)), password: PASSWORD }));
  const viewer = sessions[0]!.access_token;
  let chain = 0;
  const pathOf = (next: () => string): Request => ({ method: 'GET', headers: { authorization: `Bearer ${adminToken}` }, setupRequest: (req: Request) => ({ ...req, path: next() }) });
  return [
    {
      name: 'login (a random seeded user)',
      request: { method: 'POST', path: '/api/v1/auth/login', headers: json, setupRequest: (req: Request) => ({ ...req, body: JSON.stringify({ email: emailOf(activeUser(n)), password: PASSWORD }) }) },
    },
    {
      name: 'refresh (rotation chains)',
      request: {
        method: 'POST',
        path: '/api/v1/auth/refresh',
        headers: json,
        setupRequest: (req: Request, context: object) => {
          const ctx = context as { token?: string };
          ctx.token ??= sessions[chain++ % sessions.length]!.refresh_token;
          return { ...req, body: JSON.stringify({ refresh_token: ctx.token }) };
        },
        onResponse: (status: number, body: string, context: object) => {
          if (status === 200) (context as { token?: string }).token = (JSON.parse(body) as { data: { tokens: { refresh_token: string } } }).data.tokens.refresh_token;
        },
      },
    },
    { name: 'validate', request: { method: 'GET', path: '/api/v1/auth/validate', headers: { authorization: `Bearer ${viewer}` } } },
    { name: 'GET /users/me/activity', request: { method: 'GET', path: '/api/v1/users/me/activity', headers: { authorization: `Bearer ${viewer}` } } },
    { name: 'admin list, random page 1-50', request: pathOf(() => `/api/v1/admin/users?page=${random(50)}`) },
    { name: 'admin list, sort email, page 1-50', request: pathOf(() => `/api/v1/admin/users?sort=email&order=asc&page=${random(50)}`) },
    { name: 'admin search, one user (.g@)', request: pathOf(() => `/api/v1/admin/users?search=.${random(n)}%40`) },
    { name: 'admin search, a last name (5%)', request: pathOf(() => `/api/v1/admin/users?search=${LAST[random(20) - 1]!.toLowerCase()}`) },
    { name: 'admin stats', request: pathOf(() => '/api/v1/admin/stats') },
    { name: 'admin audit-events, newest 50', request: pathOf(() => '/api/v1/admin/audit-events?limit=50') },
    { name: 'admin audit-events, one user', request: pathOf(() => `/api/v1/admin/audit-events?user_id=${encodeURIComponent(uuidOf(random(n)))}`) },
  ];
}

/** idOf(g) as PostgreSQL formats it: an md5 with the version 4 and variant bits set, a valid uuid. */
function uuidOf(g: number): string {
  const md5 = createHash('md5').update(`growth-user-${g}`).digest('hex');
  const hex = `${md5.slice(0, 12)}4${md5.slice(13, 16)}8${md5.slice(17)}`;
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

interface Row {
  scenario: string;
  'req/s': number;
  'p50 ms': number;
  'mean ms': number;
  'p90 ms': number;
  'p97.5 ms': number;
  non2xx: number;
}

async function measureSize(server: string, n: number, hash: string): Promise<{ rows: Row[]; seedTimes: Record<string, number> }> {
  const name = `auth_bench_growth_${process.pid}_${n}`;
  await withClient(server, (c) => c.query(`CREATE DATABASE ${name}`));
  const url = new URL(server);
  url.pathname = `/${name}`;
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'auth-bench-growth-'));
  const base = `http://127.0.0.1:${port}`;
  let service: ChildProcess | null = null;
  try {
    service = await startService(port, dataDir, url.toString());
    process.stdout.write(`growth bench: ${n} users, ${n} sessions, ${n * AUDIT_PER_USER} audit rows\n`);
    const seedTimes = await withClient(url.toString(), (c) => seed(c, n, hash));
    process.stdout.write(`  seeded: ${Object.entries(seedTimes).map(([k, v]) => `${k} ${v.toFixed(1)} s`).join(', ')}\n`);
    const adminEmail = `growth-admin-${process.pid}@example.com`;
    const admin = await call(base, '/api/v1/auth/register', { email: adminEmail, password: PASSWORD });
    await withClient(url.toString(), (c) => c.query(`UPDATE users SET roles = ARRAY['user','admin'] WHERE email = $1`, [adminEmail]));
    const rows: Row[] = [];
    for (const scenario of await scenarios(base, n, admin.access_token)) {
      const result = await autocannon({ url: base, connections: CONNECTIONS, duration: DURATION, requests: [scenario.request] });
      rows.push({
        scenario: scenario.name,
        'req/s': Math.round(result.requests.average),
        'p50 ms': result.latency.p50,
        'mean ms': Math.round(result.latency.average * 100) / 100,
        'p90 ms': result.latency.p90,
        'p97.5 ms': result.latency.p97_5,
        non2xx: result.non2xx + result.errors + result.timeouts,
      });
    }
    console.table(rows);
    // purge-expired on what was seeded (a fifth of the sessions expired over a week ago): batches of 5,000.
    const started = Date.now();
    const purged = await new Promise<string>((resolve, reject) => {
      const cli = spawn(process.execPath, [join(__dirname, '..', 'src', 'interface', 'cli', 'cli.js'), 'purge-expired'], {
        env: { ...process.env, DATABASE_URL: url.toString(), DATA_DIR: dataDir, LOG_LEVEL: 'warn' },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let out = '';
      cli.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      cli.once('exit', (code) => (code === 0 ? resolve(out.trim()) : reject(new Error(`purge-expired exited with ${code}`))));
    });
    process.stdout.write(`  purge-expired: ${purged} in ${((Date.now() - started) / 1000).toFixed(1)} s (service running)\n`);
    return { rows, seedTimes };
  } finally {
    if (service) {
      service.kill('SIGTERM');
      await new Promise((r) => service!.once('exit', r));
    }
    await BROKER?.drop();
    rmSync(dataDir, { recursive: true, force: true });
    await withClient(server, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
  }
}

async function main(): Promise<void> {
  const server = process.env.DATABASE_URL;
  if (!server) throw new Error('DATABASE_URL is required (a scratch database is created on that server and dropped afterwards)');
  const hash = await argon2.hash(PASSWORD, {
    type: argon2.argon2id,
    memoryCost: Number(process.env.ARGON2_MEMORY_COST ?? 19456),
    timeCost: Number(process.env.ARGON2_TIME_COST ?? 2),
    parallelism: Number(process.env.ARGON2_PARALLELISM ?? 1),
  });
  const results: { n: number; rows: Row[] }[] = [];
  for (const n of SIZES) results.push({ n, ...(await measureSize(server, n, hash)) });
  if (results.length < 2) return;
  const small = results[0]!;
  const large = results[results.length - 1]!;
  console.table(
    small.rows.map((row, i) => {
      const other = large.rows[i]!;
      return {
        scenario: row.scenario,
        [`p50 ms at ${small.n}`]: row['p50 ms'],
        [`p50 ms at ${large.n}`]: other['p50 ms'],
        'p50 ratio': Math.round((other['p50 ms'] / Math.max(row['p50 ms'], 0.01)) * 100) / 100,
        // autocannon's percentiles are whole milliseconds: for the sub-millisecond reads the mean is what can tell.
        [`mean ms at ${small.n}`]: row['mean ms'],
        [`mean ms at ${large.n}`]: other['mean ms'],
        'mean ratio': Math.round((other['mean ms'] / Math.max(row['mean ms'], 0.01)) * 100) / 100,
        [`p97.5 ms at ${small.n}`]: row['p97.5 ms'],
        [`p97.5 ms at ${large.n}`]: other['p97.5 ms'],
      };
    }),
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`growth bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});

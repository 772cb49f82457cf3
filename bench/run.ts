/**
 * `npm run bench`: starts the service (embedded, or on the servers named by DATABASE_URL etc.), then runs
 * autocannon scenarios against it and prints req/s, p50 and p99 per scenario.
 * BENCH_DURATION (seconds, default 10) and BENCH_CONNECTIONS (default 10) tune the runs.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { Client } from 'pg';
import { type Scenario, scenarios } from './scenarios';

const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const UNREACHABLE_RATE_LIMITS = Object.fromEntries(
  ['LOGIN', 'REGISTER', 'VERIFY', 'PASSWORD_RESET', 'REFRESH'].flatMap((group) => [
    [`RATE_LIMIT_${group}_IP`, '100000/1s'],
    [`RATE_LIMIT_${group}_ID`, '100000/1s'],
  ]),
);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** With DATABASE_URL, the bench runs in a scratch database on that server and drops it afterwards. */
async function scratchDatabase(serverUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `auth_bench_${process.pid}_${Date.now()}`;
  const admin = async (sql: string) => {
    const client = new Client({ connectionString: serverUrl });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

async function startService(port: number, dataDir: string, databaseUrl: string | undefined): Promise<ChildProcess> {
  const child = spawn(process.execPath, [join(__dirname, '..', 'src', 'main.js')], {
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      LOG_LEVEL: 'warn',
      MIGRATE_ON_START: 'true',
      ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
      // The benchmark registers users and logs them in at once; the verification flow is measured by tests.
      REQUIRE_EMAIL_VERIFICATION: 'false',
      // One client address sends thousands of logins and refreshes a second: the default quotas would answer most
      // of them with 429 (tests/security tests the limits). Quotas no run reaches keep the counting (its cost) in.
      ...UNREACHABLE_RATE_LIMITS,
      REDIS_KEY_PREFIX: `bench:${process.pid}:`,
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`service exited with ${child.exitCode}`);
    const ok = await fetch(`http://127.0.0.1:${port}/health/ready`).then((r) => r.ok, () => false);
    if (ok) return child;
    await new Promise((r) => setTimeout(r, 200));
  }
  child.kill('SIGTERM');
  throw new Error('service did not become ready in 60 s');
}

async function run(base: string, scenario: Scenario) {
  const setup = await scenario.prepare(base, CONNECTIONS);
  const result = await autocannon({
    url: base,
    connections: CONNECTIONS,
    duration: scenario.duration ?? DURATION,
    requests: [setup.request],
  });
  return {
    scenario: scenario.name,
    'req/s': Math.round(result.requests.average),
    'p50 ms': result.latency.p50,
    'p99 ms': result.latency.p99,
    requests: result.requests.total,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
  };
}

async function main(): Promise<void> {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'auth-bench-'));
  const base = `http://127.0.0.1:${port}`;
  const backend = process.env.DATABASE_URL ? 'PostgreSQL server (DATABASE_URL)' : 'embedded PGlite';
  process.stdout.write(`auth-service bench: ${backend}, ${CONNECTIONS} connections, ${DURATION} s per scenario\n`);
  const scratch = process.env.DATABASE_URL ? await scratchDatabase(process.env.DATABASE_URL) : null;
  const service = await startService(port, dataDir, scratch?.url);
  try {
    const only = process.env.BENCH_ONLY?.split(',');
    const rows = [];
    for (const scenario of scenarios) {
      if (only && !only.includes(scenario.name)) continue;
      rows.push(await run(base, scenario));
    }
    console.table(rows);
  } finally {
    service.kill('SIGTERM');
    await new Promise((r) => service.once('exit', r));
    rmSync(dataDir, { recursive: true, force: true });
    await scratch?.drop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});

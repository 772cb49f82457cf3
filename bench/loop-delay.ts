/**
 * `npm run bench:loop`: how long the service's event loop stalls while it registers users, and what that does
 * to cheap requests (validate) running at the same time. `npm run bench` measures each scenario alone, so it
 * cannot show one endpoint's main-thread work delaying another's. The service runs in this process (so
 * perf_hooks can watch its event loop); autocannon runs in a child process, one per scenario.
 * Phases: one first registration, validate alone, register alone, register and validate together; BENCH_DURATION seconds each
 * (default 10), BENCH_CONNECTIONS per scenario (default 10). DATABASE_URL: a scratch database on that server,
 * else embedded PGlite; REDIS_URL / AMQP_URL passed through. Loop delays are beyond the 5 ms sampling interval.
 */
import 'reflect-metadata';
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import autocannon from 'autocannon';
import { Client } from 'pg';
import { createApplication } from '../src/config/application';
import { loadConfig } from '../src/config/env';
import { scenarios } from './scenarios';

const RESOLUTION_MS = 5;
const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
const RATE_LIMITS = ['LOGIN', 'REGISTER', 'VERIFY', 'PASSWORD_RESET', 'REFRESH'].flatMap((g) => [`RATE_LIMIT_${g}_IP`, `RATE_LIMIT_${g}_ID`]);

interface LoadResult {
  scenario: string;
  rps: number;
  p50: number;
  p99: number;
  failures: number;
}

/** Child mode: `loop-delay.js load <base> <scenario>` runs one autocannon scenario and reports to the parent. */
async function load(base: string, name: string): Promise<void> {
  const scenario = scenarios.find((s) => s.name === name);
  if (!scenario) throw new Error(`unknown scenario ${name}`);
  const setup = await scenario.prepare(base, CONNECTIONS);
  const r = await autocannon({ url: base, connections: CONNECTIONS, duration: DURATION, requests: [setup.request] });
  const result: LoadResult = { scenario: name, rps: Math.round(r.requests.average), p50: r.latency.p50, p99: r.latency.p99, failures: r.errors + r.timeouts + r.non2xx };
  process.send?.(result);
}

function runLoad(base: string, name: string): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = fork(__filename, ['load', base, name], { stdio: 'inherit' });
    child.once('message', (message) => resolve(message as LoadResult));
    child.once('exit', (code) => reject(new Error(`load ${name} exited with ${code} before reporting`)));
  });
}

async function scratchDatabase(serverUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `auth_bench_loop_${process.pid}`;
  const admin = async (sql: string) => {
    const client = new Client({ connectionString: serverUrl });
    await client.connect();
    await client.query(sql).finally(() => client.end());
  };
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

/** The first registration loads the strength estimator's dictionaries: measured on its own. */
async function firstRegistration(base: string) {
  return measured('first registration', async () => {
    const body = JSON.stringify({ email: `first-${process.pid}@example.com`, password: 'bench password that is long enough' });
    const response = await fetch(`${base}/api/v1/auth/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    if (!response.ok) throw new Error(`first registration: ${response.status}`);
    return [];
  });
}

async function phase(base: string, loads: string[]) {
  return measured(loads.join(' + '), () => Promise.all(loads.map((name) => runLoad(base, name))));
}

/** Event-loop delay beyond the sampling interval while `work` runs. */
async function measured(name: string, work: () => Promise<LoadResult[]>) {
  const loop = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  loop.enable();
  const results = await work();
  loop.disable();
  const ms = (ns: number) => Math.max(0, Math.round((ns - RESOLUTION_MS * 1e6) / 1e5) / 10);
  const row: Record<string, string | number> = {
    phase: name,
    'loop p50 ms': ms(loop.percentile(50)),
    'loop p99 ms': ms(loop.percentile(99)),
    'loop max ms': ms(loop.max),
  };
  for (const r of results) {
    row[`${r.scenario} req/s`] = r.rps;
    row[`${r.scenario} p50/p99 ms`] = `${r.p50}/${r.p99}`;
    if (r.failures > 0) row[`${r.scenario} failures`] = r.failures;
  }
  return row;
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'auth-bench-loop-'));
  const scratch = process.env.DATABASE_URL ? await scratchDatabase(process.env.DATABASE_URL) : null;
  const config = loadConfig({
    ...process.env,
    ...Object.fromEntries(RATE_LIMITS.map((name) => [name, '100000/1s'])),
    PORT: '0',
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    LOG_LEVEL: 'warn',
    MIGRATE_ON_START: 'true',
    DATABASE_URL: scratch?.url,
    REQUIRE_EMAIL_VERIFICATION: 'false',
    REDIS_KEY_PREFIX: `bench-loop:${process.pid}:`,
  });
  const app = await createApplication(config);
  try {
    const base = `http://127.0.0.1:${await app.listen()}`;
    process.stdout.write(`auth-service loop-delay bench: ${CONNECTIONS} connections per scenario, ${DURATION} s per phase\n`);
    const rows = [await firstRegistration(base)];
    for (const loads of [['validate'], ['register'], ['register', 'validate']]) rows.push(await phase(base, loads));
    console.table(rows);
  } finally {
    await app.close();
    rmSync(dataDir, { recursive: true, force: true });
    await scratch?.drop();
  }
}

const [mode, base, name] = process.argv.slice(2);
(mode === 'load' && base && name ? load(base, name) : main()).catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});

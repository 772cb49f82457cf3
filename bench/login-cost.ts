/**
 * `npm run bench:login-cost`: where a login's (BENCH_SCENARIO=register: a registration's) CPU goes, at a fixed rate (not the saturating load of
 * `npm run bench`). Logins at BENCH_RATE per second (default 30) over BENCH_CONNECTIONS_HASH connections (default
 * 8, one user each) for BENCH_DURATION seconds (default 20), after a 3-s warm-up; then the CPU each login cost,
 * user + system time from /proc over the measured seconds divided by the logins:
 *  - the service's main thread (the event loop) and its other threads (libuv's pool, where the verify runs, and
 *    V8's helpers);
 *  - PostgreSQL, Redis and RabbitMQ: every process of that name on the machine (run nothing else on them);
 *  - the driver: this process (autocannon).
 * With NODE_ENV=test ARGON2_MEMORY_COST=64 ARGON2_TIME_COST=1 the verify costs next to nothing: the same logins at
 * the same rate without the real hash beside them (README, Benchmark: what the hash does to the rest).
 */
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import autocannon from 'autocannon';
import { envNumber, startService, statCpuMs } from './harness';
import { scenarios } from './scenarios';

const RATE = envNumber('BENCH_RATE', 30);
const DURATION = envNumber('BENCH_DURATION', 20);
const CONNECTIONS = envNumber('BENCH_CONNECTIONS_HASH', 8);
// BENCH_SCENARIO=register measures registrations the same way (one hash each instead of one verify).
const SCENARIO = process.env.BENCH_SCENARIO ?? 'login';
const SERVERS = { postgres: 'postgres', redis: 'redis-server', rabbitmq: 'beam.smp' } as const;

function processesNamed(name: string): number[] {
  try {
    return execFileSync('pgrep', ['-x', name], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number);
  } catch {
    return []; // pgrep exits 1 when none matches
  }
}

interface Snapshot {
  main: number;
  otherThreads: number;
  servers: Record<keyof typeof SERVERS, number>;
  driver: number;
}

function snapshot(pid: number): Snapshot {
  let main = 0;
  let otherThreads = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    const ms = statCpuMs(`/proc/${pid}/task/${tid}/stat`);
    if (tid === String(pid)) main += ms;
    else otherThreads += ms;
  }
  const servers = Object.fromEntries(
    Object.entries(SERVERS).map(([key, name]) => [key, processesNamed(name).reduce((sum, p) => sum + statCpuMs(`/proc/${p}/stat`), 0)]),
  ) as Snapshot['servers'];
  const usage = process.cpuUsage();
  return { main, otherThreads, servers, driver: (usage.user + usage.system) / 1000 };
}

async function main(): Promise<void> {
  const service = await startService();
  try {
    // The threads read are one process's: with WORKERS=N the logins would be spread over N of them.
    if (service.workers > 1) throw new Error('bench:login-cost measures one service process: unset BENCH_WORKERS');
    if (SCENARIO !== 'login' && SCENARIO !== 'register') throw new Error('BENCH_SCENARIO must be login or register');
    const login = scenarios.find((s) => s.name === SCENARIO);
    if (!login) throw new Error(`no ${SCENARIO} scenario`);
    const { request } = await login.prepare(service.base, CONNECTIONS);
    const run = (duration: number) => autocannon({ url: service.base, connections: CONNECTIONS, duration, overallRate: RATE, requests: [request] });
    await run(3);
    const before = snapshot(service.pid);
    const result = await run(DURATION);
    const after = snapshot(service.pid);
    const logins = result.requests.total;
    const per = (a: number, b: number) => Math.round(((b - a) / Math.max(1, logins)) * 100) / 100;
    console.log(`auth-service ${SCENARIO} cost: ${service.backend}; ${RATE} ${SCENARIO}s/s asked, ${CONNECTIONS} connections, ${DURATION} s`);
    console.log(`${SCENARIO}s ${logins} (${Math.round(result.requests.average)}/s), errors ${result.errors}, non-2xx ${result.non2xx}, p50 ${result.latency.p50} ms`);
    console.table({
      'service main thread': per(before.main, after.main),
      'service other threads (pool: the verify; V8 helpers)': per(before.otherThreads, after.otherThreads),
      PostgreSQL: per(before.servers.postgres, after.servers.postgres),
      Redis: per(before.servers.redis, after.servers.redis),
      RabbitMQ: per(before.servers.rabbitmq, after.servers.rabbitmq),
      'driver (this process)': per(before.driver, after.driver),
    });
    console.log(`(CPU ms per ${SCENARIO}; servers: every process of that name on the machine)`);
  } finally {
    await service.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

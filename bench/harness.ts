/**
 * What `npm run bench` and `npm run bench:soak` share: free ports, a scratch database on DATABASE_URL's server,
 * the service started as its own process (BENCH_WORKERS=N: WORKERS=N, node:cluster), and its resident memory
 * summed over its process tree, read from /proc (Linux).
 */
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'amqplib';
import { Client } from 'pg';
import { queueNames } from '../src/infrastructure/messaging/rabbitmq/amqp-event-subscriptions';
import { SECURITY_NOTICES_SUBSCRIBER } from '../src/interface/events/security-notice.subscriber';

/**
 * As `npm start` and the image run the service (README, Memory): argon2's 19 MiB blocks go back to the system,
 * on transparent huge pages where the kernel offers them (madvise mode).
 */
const SERVICE_PROCESS_ENV = { MALLOC_MMAP_THRESHOLD_: '1048576', MALLOC_ARENA_MAX: '2', GLIBC_TUNABLES: 'glibc.malloc.hugetlb=1' };
const SERVICE_NODE_ARGS = ['--max-old-space-size=112', '--max-semi-space-size=2', '--no-allocation-site-pretenuring'];

export const MB = 1024 * 1024;

/** Quotas no run reaches: the counting (its cost) stays in, the refusals stay out (tests/security tests them). */
const UNREACHABLE_RATE_LIMITS = Object.fromEntries(
  ['LOGIN', 'REGISTER', 'VERIFY', 'PASSWORD_RESET', 'REFRESH'].flatMap((group) => [
    [`RATE_LIMIT_${group}_IP`, '100000/1s'],
    [`RATE_LIMIT_${group}_ID`, '100000/1s'],
  ]),
);

export function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, got ${raw}`);
  return value;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

let scratchCount = 0;

/** With DATABASE_URL, the bench runs in a scratch database on that server and drops it afterwards. */
export async function scratchDatabase(serverUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `auth_bench_${process.pid}_${Date.now()}_${++scratchCount}`;
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

export interface RunningService {
  base: string;
  pid: number;
  workers: number;
  backend: string;
  stop(): Promise<void>;
}

/**
 * With AMQP_URL, the bench's service publishes to an exchange and consumes from queues of its own, deleted
 * afterwards: on a broker shared with a running deployment, the default `auth.events` would hand its subscribers
 * (and anyone else's) thousands of registrations and logins of load-…@example.com, and leave the service's
 * subscriber queues behind. Every subscriber the service starts must be listed here to be deleted.
 */
const SERVICE_SUBSCRIBERS = [SECURITY_NOTICES_SUBSCRIBER];

export function scratchBroker(serverUrl: string): { env: Record<string, string>; drop(): Promise<void> } {
  const name = `bench.${process.pid}.${Date.now()}.${++scratchCount}`;
  const exchange = `${name}.auth.events`;
  const queuePrefix = `${name}.`;
  return {
    env: { AMQP_EXCHANGE: exchange, AMQP_QUEUE_PREFIX: queuePrefix },
    /** Never throws: a broker that is gone must not hide why the run failed, nor stop the database's drop. */
    async drop() {
      try {
        const connection = await connect(serverUrl);
        try {
          const channel = await connection.createChannel();
          for (const subscriber of SERVICE_SUBSCRIBERS) {
            const names = queueNames(queuePrefix, subscriber);
            for (const queue of [names.queue, names.retry, names.deadLetter]) await channel.deleteQueue(queue);
          }
          await channel.deleteExchange(exchange);
        } finally {
          await connection.close().catch(() => undefined);
        }
      } catch (error) {
        process.stderr.write(`bench: could not delete exchange ${exchange} and queues ${queuePrefix}*: ${String(error)}\n`);
      }
    },
  };
}

/**
 * Starts dist/src/main.js on a free port: embedded, or on DATABASE_URL (a scratch database), REDIS_URL (a key
 * prefix of its own) and AMQP_URL (an exchange and queues of its own: scratchBroker) when set. BENCH_WORKERS=N
 * runs it with WORKERS=N (needs DATABASE_URL and REDIS_URL, as the service itself requires).
 */
export async function startService(): Promise<RunningService> {
  const workers = envNumber('BENCH_WORKERS', 1);
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'auth-bench-'));
  const scratch = process.env.DATABASE_URL ? await scratchDatabase(process.env.DATABASE_URL) : null;
  const broker = process.env.AMQP_URL ? scratchBroker(process.env.AMQP_URL) : null;
  const backend = [
    scratch ? 'PostgreSQL (DATABASE_URL, scratch database)' : 'embedded PGlite',
    process.env.REDIS_URL ? 'Redis (REDIS_URL)' : 'in-process cache',
    process.env.AMQP_URL ? 'RabbitMQ (AMQP_URL)' : 'in-process bus',
    workers > 1 ? `WORKERS=${workers}` : 'one process',
  ].join(', ');
  // BENCH_SERVICE_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof': Node flags for the service only (profiling).
  // The heap bounds `npm start` and the image use (README, Memory), then BENCH_SERVICE_NODE_ARGS.
  const nodeArgs = [...SERVICE_NODE_ARGS, ...(process.env.BENCH_SERVICE_NODE_ARGS ?? '').split(' ').filter((arg) => arg !== '')];
  const child = spawn(process.execPath, [...nodeArgs, join(__dirname, '..', 'src', 'main.js')], {
    env: {
      ...SERVICE_PROCESS_ENV,
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
      MIGRATE_ON_START: 'true',
      WORKERS: String(workers),
      ...(scratch ? { DATABASE_URL: scratch.url } : {}),
      // The benchmark registers users and logs them in at once; the verification flow is measured by tests.
      REQUIRE_EMAIL_VERIFICATION: 'false',
      ...UNREACHABLE_RATE_LIMITS,
      // Each login scenario's few users sign in thousands of times a run: past the default 100 every sign-in would
      // also end that user's oldest session (a locked transaction), which a real population of users does not meet.
      // The check every sign-in makes (one read, after the answer) still runs.
      SESSION_MAX_PER_USER: process.env.SESSION_MAX_PER_USER ?? '10000',
      REDIS_KEY_PREFIX: `bench:${process.pid}:`,
      ...broker?.env,
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const cleanup = async () => {
    rmSync(dataDir, { recursive: true, force: true });
    await scratch?.drop();
    await broker?.drop();
  };
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    await cleanup();
  };
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      await cleanup();
      throw new Error(`service exited with ${child.exitCode}`);
    }
    const ok = await fetch(`${base}/health/ready`).then((r) => r.ok, () => false);
    // With workers, every one of them must be listening before the load starts.
    if (ok && processTree(child.pid!).length >= (workers > 1 ? workers + 1 : 1)) {
      return { base, pid: child.pid!, workers, backend, stop };
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  await stop();
  throw new Error('service did not become ready in 90 s');
}

/** `pid` and its descendants (node:cluster workers), from /proc/<pid>/task/<tid>/children. */
export function processTree(pid: number): number[] {
  const all = [pid];
  for (let i = 0; i < all.length; i += 1) {
    const current = all[i]!;
    let tasks: string[] = [];
    try {
      tasks = readdirSync(`/proc/${current}/task`);
    } catch {
      continue;
    }
    for (const tid of tasks) {
      try {
        const children = readFileSync(`/proc/${current}/task/${tid}/children`, 'utf8').trim();
        if (children !== '') all.push(...children.split(/\s+/).map(Number));
      } catch {
        // the task ended meanwhile
      }
    }
  }
  return all;
}

/** Resident set size (VmRSS) of `pid` and its descendants, in bytes; 0 for processes gone meanwhile. */
export function treeRss(pid: number): number {
  let total = 0;
  for (const p of processTree(pid)) {
    try {
      const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${p}/status`, 'utf8'));
      if (match) total += Number(match[1]) * 1024;
    } catch {
      // gone
    }
  }
  return total;
}

/** Clock ticks per second of /proc/<pid>/stat's utime and stime (USER_HZ: 100 on Linux builds). */
const TICKS_PER_SECOND = 100;

/** CPU time (user + system, ms) of one /proc stat file (a process's or a thread's); 0 when it is gone. */
export function statCpuMs(path: string): number {
  try {
    const stat = readFileSync(path, 'utf8');
    // Fields after the parenthesised command name (which may hold spaces): state is the 3rd field overall.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND) * 1000;
  } catch {
    return 0; // gone
  }
}

/**
 * CPU time (user + system, ms) `pid` and its descendants have used so far. CPU time per request is what a
 * request costs whatever else the machine runs, so it compares better than req/s on a busy machine.
 */
export function treeCpuMs(pid: number): number {
  return processTree(pid).reduce((sum, p) => sum + statCpuMs(`/proc/${p}/stat`), 0);
}

/** Samples treeRss(pid) every `intervalMs`; `peak()` since the last `reset()`, `overallPeak()` since start. */
export class RssSampler {
  private timer: NodeJS.Timeout;
  private peakSinceReset = 0;
  private peakOverall = 0;
  last = 0;

  constructor(readonly pid: number, intervalMs: number, private readonly onSample?: (rss: number) => void) {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
  }

  sample(): number {
    const rss = treeRss(this.pid);
    if (rss > 0) {
      this.last = rss;
      this.peakSinceReset = Math.max(this.peakSinceReset, rss);
      this.peakOverall = Math.max(this.peakOverall, rss);
      this.onSample?.(rss);
    }
    return rss;
  }

  reset(): void {
    this.peakSinceReset = this.sample();
  }

  peak(): number {
    return Math.max(this.peakSinceReset, this.sample());
  }

  overallPeak(): number {
    return this.peakOverall;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

/**
 * Runs a compiled bench script (dist/bench/<name>.js) as a child with IPC; resolves with its first message.
 * `allocator`: 'service' (default) runs it with the service's glibc settings (startService), so the raw argon2
 * rate is measured as the service hashes; 'default' with glibc's own, every MALLOC_* variable and
 * GLIBC_TUNABLES removed, as a plain `node` would run.
 */
export function forkScript<T>(name: string, args: string[], allocator: 'service' | 'default' = 'service'): { child: ChildProcess; message: Promise<T> } {
  const env =
    allocator === 'service'
      ? { ...SERVICE_PROCESS_ENV, ...process.env }
      : Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('MALLOC_') && key !== 'GLIBC_TUNABLES'));
  const child = fork(join(__dirname, `${name}.js`), args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env });
  const message = new Promise<T>((resolve, reject) => {
    child.once('message', (m) => resolve(m as T));
    child.once('exit', (code) => reject(new Error(`${name} exited with ${code} before reporting`)));
  });
  return { child, message };
}

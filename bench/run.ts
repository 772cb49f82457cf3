/**
 * `npm run bench`: in one run, on this machine and this Node,
 *  1. the ceiling: a bare Koa hello-world (bench/koa-hello.ts, its own process) under the read settings;
 *  2. the raw argon2id rate: the service's hasher with the service's parameters (bench/argon2-rate.ts, its own
 *     process, one per service worker, enough hashes in flight to fill libuv's pool and every core), hashes/s
 *     and verifies/s, once with the service's glibc settings (the share) and once with glibc's defaults (the
 *     second share, "of plain");
 *  3. every scenario against the service (its own process; embedded, or DATABASE_URL / REDIS_URL / AMQP_URL),
 *     with req/s, p50, p99, errors, non-2xx, its share (reads: of the Koa ceiling; register: of the hash rate;
 *     login: of the verify rate) and the service's peak RSS (VmRSS summed over its process tree).
 * BENCH_DURATION (s per measurement, default 10), BENCH_CONNECTIONS_READ (default 50: reads, refresh, the ceiling),
 * BENCH_CONNECTIONS_HASH (default 8: login, register), BENCH_ONLY=jwks,metadata (a subset; the ceiling and
 * the argon2 rate are measured only when a scenario needs them), BENCH_WORKERS=N (the service with WORKERS=N),
 * BENCH_CEILING=each (the ceiling measured again before each scenario, its share taken of that one: bare Koa
 * before a read, the raw argon2 rates before register and login), BENCH_ROUNDS=N (each scenario measured N times,
 * each time just after its ceiling: the ceilings and the scenario take turns, so a drift of the machine's speed
 * falls on both; the share is of the mean ceiling, and each round's share is listed; implies BENCH_CEILING=each).
 * Reads also get a "CPU share": bare Koa's CPU µs per request over the scenario's, the same ratio as the req/s
 * share when both are CPU-bound, but steady when the machine's speed drifts between two measurements.
 */
import { availableParallelism } from 'node:os';
import autocannon from 'autocannon';
import type { Argon2Rate } from './argon2-rate';
import { envNumber, forkScript, MB, RssSampler, startService, treeCpuMs } from './harness';
import { type Scenario, type ScenarioKind, scenarios } from './scenarios';

const DURATION = envNumber('BENCH_DURATION', 10);
const WARMUP = Math.min(2, DURATION / 5);
const READ_CONNECTIONS = envNumber('BENCH_CONNECTIONS_READ', 50);
const HASH_CONNECTIONS = envNumber('BENCH_CONNECTIONS_HASH', 8);
const ROUNDS = Math.round(envNumber('BENCH_ROUNDS', 1));
const EACH_CEILING = process.env.BENCH_CEILING === 'each' || ROUNDS > 1;

const connectionsFor = (kind: ScenarioKind) => (kind === 'hash' || kind === 'verify' ? HASH_CONNECTIONS : READ_CONNECTIONS);
const mb = (bytes: number) => Math.round(bytes / MB);
const pct = (part: number, whole: number) => (whole > 0 ? `${Math.round((part / whole) * 100)}%` : '-');

async function load(url: string, connections: number, request: autocannon.Request, duration: number) {
  return autocannon({ url, connections, duration, requests: [request] });
}

interface Ceiling {
  rps: number;
  p50: number;
  p99: number;
  cpuUs: number;
}

/** The bare-Koa hello-world in its own process, kept up for the run so it can be measured again (BENCH_CEILING=each). */
async function startKoa(): Promise<{ measure(): Promise<Ceiling>; stop(): void }> {
  const { child, message } = forkScript<{ port: number }>('koa-hello', []);
  const { port } = await message;
  const url = `http://127.0.0.1:${port}`;
  return {
    /** Its req/s with the read settings, after a short warm-up. */
    async measure() {
      await load(url, READ_CONNECTIONS, { method: 'GET', path: '/' }, WARMUP);
      const cpuBefore = treeCpuMs(child.pid!);
      const r = await load(url, READ_CONNECTIONS, { method: 'GET', path: '/' }, DURATION);
      const cpuUs = perRequestUs(treeCpuMs(child.pid!) - cpuBefore, r.requests.total);
      if (r.errors + r.timeouts + r.non2xx > 0) throw new Error(`bare Koa: ${r.errors} errors, ${r.timeouts} timeouts, ${r.non2xx} non-2xx`);
      return { rps: Math.round(r.requests.average), p50: r.latency.p50, p99: r.latency.p99, cpuUs };
    },
    stop: () => void child.kill('SIGTERM'),
  };
}

/**
 * As many hashing processes as the service runs (BENCH_WORKERS, each with its own libuv pool), started together
 * and summed: the rate the service's processes could reach if hashing were all they did.
 */
async function argon2Rate(allocator: 'service' | 'default'): Promise<Argon2Rate & { processes: number }> {
  const seconds = Math.max(2, DURATION / 2);
  const processes = envNumber('BENCH_WORKERS', 1);
  const rates = await Promise.all(
    Array.from(
      { length: processes },
      () => forkScript<Argon2Rate>('argon2-rate', [String(seconds), String(Math.max(8, HASH_CONNECTIONS))], allocator).message,
    ),
  );
  const sum = (pick: (r: Argon2Rate) => number) => Math.round(rates.reduce((total, r) => total + pick(r), 0) * 10) / 10;
  return { ...rates[0]!, hashesPerSecond: sum((r) => r.hashesPerSecond), verifiesPerSecond: sum((r) => r.verifiesPerSecond), processes };
}

/** The raw rates the hash-bound rows are compared with: with the service's glibc settings and with glibc's own. */
interface RawArgon2 {
  service: Argon2Rate;
  plain: Argon2Rate;
}

async function rawArgon2(say: (line: string) => void): Promise<RawArgon2> {
  const service = await argon2Rate('service');
  const plain = await argon2Rate('default');
  const { memoryCost, timeCost, parallelism } = service.params;
  const where = service.processes > 1 ? `${service.processes} processes, ${service.concurrency} in flight each` : `${service.concurrency} in flight`;
  say(`raw argon2id (m=${memoryCost}, t=${timeCost}, p=${parallelism}; ${where}, UV_THREADPOOL_SIZE=${process.env.UV_THREADPOOL_SIZE ?? '4 (default)'}, ${availableParallelism()} cores):`);
  say(`  with the service's glibc settings: ${service.hashesPerSecond} hashes/s, ${service.verifiesPerSecond} verifies/s`);
  say(`  with glibc's defaults (plain node): ${plain.hashesPerSecond} hashes/s, ${plain.verifiesPerSecond} verifies/s`);
  return { service, plain };
}

async function main(): Promise<void> {
  const only = process.env.BENCH_ONLY?.split(',').map((s) => s.trim());
  const selected = scenarios.filter((s) => !only || only.includes(s.name));
  if (selected.length === 0) throw new Error(`BENCH_ONLY matches no scenario (${scenarios.map((s) => s.name).join(', ')})`);
  const kinds = new Set(selected.map((s) => s.kind));
  const say = (line: string) => process.stdout.write(`${line}\n`);

  say(`auth-service bench: node ${process.version}, ${DURATION} s per measurement, ${READ_CONNECTIONS} connections for reads, ${HASH_CONNECTIONS} for hash-bound routes`);
  const koaServer = kinds.has('read') ? await startKoa() : null;
  const koa = koaServer ? await koaServer.measure() : null;
  if (koa) say(`ceiling: bare Koa hello-world ${koa.rps} req/s (p50 ${koa.p50} ms, p99 ${koa.p99} ms, ${koa.cpuUs} µs CPU per request, ${READ_CONNECTIONS} connections)`);
  // The raw rate twice: with the service's glibc settings (the share) and with glibc's defaults, as a plain `node`
  // hashes (the second share): what the service's memory settings cost the hash is in the figures, not hidden.
  // With BENCH_CEILING=each they are measured before each hash-bound scenario instead (below).
  const argon2 = (kinds.has('hash') || kinds.has('verify')) && !EACH_CEILING ? await rawArgon2(say) : null;

  const service = await startService();
  say(`service: ${service.backend}`);
  const rss = new RssSampler(service.pid, 250);
  const startRss = rss.last;
  const rows: Record<string, string | number>[] = [];
  try {
    for (const scenario of selected) {
      const hashBound = scenario.kind === 'hash' || scenario.kind === 'verify';
      const rounds: Round[] = [];
      for (let round = 1; round <= ROUNDS; round += 1) {
        // BENCH_CEILING=each (and BENCH_ROUNDS): the ceiling again just before each measurement (the Koa rate
        // before a read, the raw argon2 rates before register and login), for a machine whose load drifts.
        const ceiling = EACH_CEILING && scenario.kind === 'read' && koaServer ? await koaServer.measure() : koa;
        if (EACH_CEILING && hashBound) say(`before ${scenario.name}${ROUNDS > 1 ? `, round ${round} of ${ROUNDS}` : ''}:`);
        const raw = EACH_CEILING && hashBound ? await rawArgon2(say) : argon2;
        rounds.push({ ceiling, raw, result: await measure(service.base, scenario, rss) });
      }
      rows.push(summarize(scenario, rounds));
    }
  } finally {
    rss.stop();
    koaServer?.stop();
    await service.stop();
  }
  console.table(rows);
  say(`service RSS${service.workers > 1 ? ` (primary + ${service.workers} workers)` : ''}: ${mb(startRss)} MB after start, peak ${mb(rss.overallPeak())} MB, last ${mb(rss.last)} MB`);
}

/** One measurement of a scenario against the service. */
interface Measured {
  requests: number;
  seconds: number;
  p50: number;
  p99: number;
  cpuMs: number;
  errors: number;
  badStatus: number;
  peakRss: number;
}

/** A scenario's measurement with the ceilings measured just before it. */
interface Round {
  ceiling: Ceiling | null;
  raw: RawArgon2 | null;
  result: Measured;
}

async function measure(base: string, scenario: Scenario, rss: RssSampler): Promise<Measured> {
  const connections = connectionsFor(scenario.kind);
  const setup = await scenario.prepare(base, connections);
  if (scenario.kind === 'read') await load(base, connections, setup.request, WARMUP);
  rss.reset();
  const cpuBefore = treeCpuMs(rss.pid);
  const seconds = scenario.duration ?? DURATION;
  const r = await load(base, connections, setup.request, seconds);
  return {
    requests: r.requests.total,
    seconds,
    p50: r.latency.p50,
    p99: r.latency.p99,
    cpuMs: treeCpuMs(rss.pid) - cpuBefore,
    errors: r.errors + r.timeouts,
    badStatus: unexpectedStatuses(r, scenario.expectStatus),
    peakRss: rss.peak(),
  };
}

/** The ceiling a share is taken of: Koa's req/s for a read, the raw hash or verify rate (service settings or plain). */
function ceilingOf(scenario: Scenario, round: Round, plain = false): number {
  if (scenario.kind === 'read') return round.ceiling?.rps ?? 0;
  const raw = plain ? round.raw?.plain : round.raw?.service;
  if (scenario.kind === 'hash') return raw?.hashesPerSecond ?? 0;
  if (scenario.kind === 'verify') return raw?.verifiesPerSecond ?? 0;
  return 0;
}

/**
 * One table row for a scenario's rounds: requests and CPU summed over them, each share taken of the mean of the
 * ceilings measured before them (with BENCH_ROUNDS > 1 the shares of each round as well, in `rounds`).
 */
function summarize(scenario: Scenario, rounds: Round[]): Record<string, string | number> {
  const sum = (pick: (m: Measured) => number) => rounds.reduce((total, round) => total + pick(round.result), 0);
  const mean = (pick: (round: Round) => number) => rounds.reduce((total, round) => total + pick(round), 0) / rounds.length;
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) / 2)] ?? 0;
  const requests = sum((m) => m.requests);
  const rps = Math.round(requests / sum((m) => m.seconds));
  const cpuUs = perRequestUs(sum((m) => m.cpuMs), requests);
  const of = (plain: boolean) => mean((round) => ceilingOf(scenario, round, plain));
  const share =
    scenario.kind === 'read'
      ? `${pct(rps, of(false))} of Koa`
      : scenario.kind === 'hash'
        ? `${pct(rps, of(false))} of hash (${pct(rps, of(true))} of plain)`
        : scenario.kind === 'verify'
          ? `${pct(rps, of(false))} of verify (${pct(rps, of(true))} of plain)`
          : '-';
  const koaCpuUs = mean((round) => round.ceiling?.cpuUs ?? 0);
  const row: Record<string, string | number> = {
    scenario: scenario.name,
    conns: connectionsFor(scenario.kind),
    'req/s': rps,
    share,
    'p50 ms': median(rounds.map((round) => round.result.p50)),
    'p99 ms': Math.max(...rounds.map((round) => round.result.p99)),
    'CPU µs/req': cpuUs,
    // Koa's CPU per request over this one's: the share on a machine whose speed drifts (both are per request).
    'CPU share': scenario.kind === 'read' && koaCpuUs > 0 ? pct(koaCpuUs, cpuUs) : '-',
    requests,
    errors: sum((m) => m.errors),
    'bad status': sum((m) => m.badStatus),
    'peak RSS MB': mb(Math.max(...rounds.map((round) => round.result.peakRss))),
  };
  if (EACH_CEILING) row['Koa req/s'] = scenario.kind === 'read' ? Math.round(of(false)) : '-';
  if (ROUNDS > 1 && scenario.kind !== 'write') {
    row.rounds = rounds.map((round) => pct(round.result.requests / round.result.seconds, ceilingOf(scenario, round))).join(' ');
  }
  return row;
}

/** Service CPU time per request (all its processes and threads), in µs. */
function perRequestUs(cpuMs: number, requests: number): number {
  return requests > 0 ? Math.round((cpuMs * 1000) / requests) : 0;
}

/** Answers with another status than the scenario expects (default: not 2xx). */
function unexpectedStatuses(r: autocannon.Result, expected: number | undefined): number {
  if (expected === undefined) return r.non2xx;
  const stats: Record<string, { count?: number }> = r.statusCodeStats ?? {};
  const answered = Object.values(stats).reduce((sum, s) => sum + (s.count ?? 0), 0);
  return answered - (stats[String(expected)]?.count ?? 0);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});

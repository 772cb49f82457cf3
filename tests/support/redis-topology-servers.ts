/**
 * Throw-away Redis topologies built from the local `redis-server` binary on free ports: a 3-master Cluster and a
 * master watched by one Sentinel. Every process started here is stopped by `stop()` (by its pid).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isFree } from './ports';

export interface Topology {
  url: string;
  stop(): Promise<void>;
}

export interface ClusterTopology extends Topology {
  /** Stops node `index` (SIGTERM) and waits until it has exited. */
  stopNode(index: number): Promise<void>;
  /** Starts node `index` again on its port with its cluster state file: it rejoins with its slots. */
  startNode(index: number): Promise<void>;
}

/** Each jest worker takes its topologies' ports from a band of its own: two such suites may run at once (the deadline group). */
const BAND = 3_000;
const BANDS = 3; // 30000-38999, their cluster bus ports 40000-48999

/** `count` free ports whose cluster bus ports (+10000) are free too, in this jest worker's band. */
async function freePorts(count: number): Promise<number[]> {
  const worker = Math.max(1, Number(process.env.JEST_WORKER_ID ?? '1') || 1);
  const first = 30_000 + ((worker - 1) % BANDS) * BAND;
  const ports: number[] = [];
  for (let port = first + Math.floor(Math.random() * (BAND / 2)); ports.length < count && port < first + BAND; port += 1) {
    if ((await isFree(port)) && (await isFree(port + 10000))) ports.push(port);
  }
  if (ports.length < count) throw new Error('no free ports for the Redis topology');
  return ports;
}

async function waitFor(what: string, check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function cli(port: number, ...args: string[]): string {
  try {
    return execFileSync('redis-cli', ['-p', String(port), ...args], { encoding: 'utf8', timeout: 5000, stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return '';
  }
}

function startServer(dir: string, args: string[]): ChildProcess {
  const child = spawn('redis-server', args, { cwd: dir, stdio: 'ignore' });
  child.on('error', () => undefined); // a missing binary shows as the wait timing out, named
  return child;
}

/** Exited, by itself or by a signal (a process killed has no exit code, only its signal). */
function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

async function stopAll(children: ChildProcess[], dir: string): Promise<void> {
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolve) => {
          if (exited(child) || child.pid === undefined) return resolve();
          child.once('exit', () => resolve());
          child.kill('SIGTERM');
        }),
    ),
  );
  rmSync(dir, { recursive: true, force: true });
}

/** Three masters, slots split by `redis-cli --cluster create`; the URL lists two of them as seeds. */
export async function startCluster(): Promise<ClusterTopology> {
  const dir = mkdtempSync(join(tmpdir(), 'auth-redis-cluster-'));
  const ports = await freePorts(3);
  const start = (port: number) =>
    startServer(dir, ['--port', String(port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`,
      '--save', '', '--appendonly', 'no', '--dir', dir]);
  const children = ports.map(start);
  try {
    await waitFor('the cluster nodes', () => ports.every((port) => cli(port, 'ping').trim() === 'PONG'));
    execFileSync('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes'], { stdio: 'ignore', timeout: 20_000 });
    await waitFor('cluster_state:ok', () => ports.every((port) => cli(port, 'cluster', 'info').includes('cluster_state:ok')));
  } catch (error) {
    await stopAll(children, dir);
    throw error;
  }
  return {
    url: ports.slice(0, 2).map((p) => `redis://127.0.0.1:${p}`).join(','),
    stop: () => stopAll(children, dir),
    async stopNode(index) {
      const child = children[index]!;
      if (exited(child)) return;
      await new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      });
    },
    async startNode(index) {
      children[index] = start(ports[index]!);
      await waitFor('the node back in a healthy cluster', () => ports.every((port) => cli(port, 'cluster', 'info').includes('cluster_state:ok')));
    },
  };
}

export interface SentinelTopology extends Topology {
  /** The data node the Sentinel names as master now (its port). */
  masterPort(): number | null;
  /**
   * Stops the master (SIGTERM) and waits until the Sentinel has promoted the replica: the failover a deployment
   * sees when its master's host dies. Only with `{ replica: true }`.
   */
  failover(): Promise<void>;
}

/**
 * A master and one Sentinel monitoring it as `master` (quorum 1); the URL is the Sentinel's. With `replica`, a
 * replica of the master as well, and a Sentinel quick to fail over (down after 1 s).
 */
export async function startSentinel(master: string, options: { replica?: boolean } = {}): Promise<SentinelTopology> {
  const dir = mkdtempSync(join(tmpdir(), 'auth-redis-sentinel-'));
  const [dataPort, sentinelPort, replicaPort] = await freePorts(3);
  const config = join(dir, 'sentinel.conf');
  const quick = options.replica ? [`sentinel down-after-milliseconds ${master} 1000`, `sentinel failover-timeout ${master} 10000`] : [];
  writeFileSync(config, [`port ${sentinelPort}`, 'bind 127.0.0.1', `dir ${dir}`, `sentinel monitor ${master} 127.0.0.1 ${dataPort} 1`, ...quick, ''].join('\n'));
  const data = (port: number, extra: string[] = []) =>
    startServer(dir, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--dbfilename', `dump-${port}.rdb`, ...extra]);
  const children = [data(dataPort!), startServer(dir, [config, '--sentinel'])];
  if (options.replica) children.push(data(replicaPort!, ['--replicaof', '127.0.0.1', String(dataPort)]));
  const masterPort = () => {
    const answer = cli(sentinelPort!, 'sentinel', 'get-master-addr-by-name', master).split('\n')[1]?.trim();
    return answer ? Number(answer) : null;
  };
  try {
    await waitFor('the Sentinel to see its master', () => masterPort() === dataPort);
    if (options.replica) {
      await waitFor('the replica in sync', () => cli(replicaPort!, 'info', 'replication').includes('master_link_status:up'));
      await waitFor('the Sentinel to see the replica', () => cli(sentinelPort!, 'sentinel', 'replicas', master).includes(String(replicaPort)));
    }
  } catch (error) {
    await stopAll(children, dir);
    throw error;
  }
  return {
    url: `redis://127.0.0.1:${sentinelPort}`,
    stop: () => stopAll(children, dir),
    masterPort,
    async failover() {
      if (!options.replica) throw new Error('failover() needs startSentinel(name, { replica: true })');
      const old = children[0]!;
      if (!exited(old)) {
        await new Promise<void>((resolve) => {
          old.once('exit', () => resolve());
          old.kill('SIGKILL');
        });
      }
      await waitFor('the Sentinel to promote the replica', () => masterPort() === replicaPort, 30_000);
      await waitFor('the replica to act as master', () => cli(replicaPort!, 'info', 'replication').includes('role:master'), 30_000);
    },
  };
}

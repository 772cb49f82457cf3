/**
 * A PgBouncer of the test's own (Debian's package, `.ci/run` installs it) in transaction pooling mode, in front
 * of one database on the real PostgreSQL: its own ini and userlist in a temp dir, a free port, stopped by stop().
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { freePort } from './ports';

const CANDIDATES = ['/usr/sbin/pgbouncer', '/usr/bin/pgbouncer', '/usr/local/bin/pgbouncer'];

/** The pgbouncer binary, or null when none is installed. */
export function pgbouncerBinary(): string | null {
  const found = CANDIDATES.find((path) => existsSync(path));
  if (found) return found;
  try {
    return execFileSync('sh', ['-c', 'command -v pgbouncer'], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
}

/**
 * Whether the PgBouncer suite runs: with a binary, always; without one, under CI=true too (and fails, never
 * skips); elsewhere it is left out with a warning.
 */
export const PGBOUNCER_SELECTED: boolean = (() => {
  if (pgbouncerBinary() !== null || process.env.CI === 'true') return true;
  process.stderr.write('[tests] pgbouncer is not installed (apt-get install pgbouncer): its cases are left out (CI=true fails instead)\n');
  return false;
})();

export interface PgBouncer {
  /** The target database's URL with PgBouncer's host and port. */
  url: string;
  /** The admin console (database `pgbouncer`): SHOW POOLS, SHOW SERVERS, SHOW STATS ... as rows. */
  show(what: string): Promise<Record<string, string>[]>;
  version: string;
  output(): string;
  stop(): Promise<void>;
}

export interface PgBouncerSettings {
  /** Server connections per (database, user) pair: fewer than the service's pool, so clients share them. */
  defaultPoolSize: number;
}


export async function startPgBouncer(targetUrl: string, settings: PgBouncerSettings): Promise<PgBouncer> {
  const binary = pgbouncerBinary();
  if (binary === null) throw new Error('pgbouncer is not installed: apt-get install -y pgbouncer (.ci/run does)');
  const target = new URL(targetUrl);
  const database = target.pathname.slice(1);
  const user = decodeURIComponent(target.username || 'postgres');
  const password = decodeURIComponent(target.password);
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'pgbouncer-'));
  // pgbouncer refuses to run as root; as root it is told to switch to nobody, who must read these files.
  chmodSync(dir, 0o755);
  const server = [`host=${target.hostname}`, `port=${target.port || '5432'}`, `dbname=${database}`, `user=${user}`, ...(password ? [`password=${password}`] : [])];
  const ini = [
    '[databases]',
    `${database} = ${server.join(' ')}`,
    '[pgbouncer]',
    'listen_addr = 127.0.0.1',
    `listen_port = ${port}`,
    'unix_socket_dir =',
    'auth_type = trust',
    `auth_file = ${join(dir, 'userlist.txt')}`,
    `admin_users = ${user}`,
    'pool_mode = transaction',
    `default_pool_size = ${settings.defaultPoolSize}`,
    'max_client_conn = 200',
    // Transaction pooling as deployed: no reset between clients, no session state carried over.
    'server_reset_query =',
    'ignore_startup_parameters = extra_float_digits',
    '',
  ].join('\n');
  writeFileSync(join(dir, 'pgbouncer.ini'), ini, { mode: 0o644 });
  writeFileSync(join(dir, 'userlist.txt'), `"${user}" ""\n`, { mode: 0o644 });
  const version = execFileSync(binary, ['--version'], { encoding: 'utf8' }).split('\n')[0]!.trim();
  const asRoot = process.getuid?.() === 0 ? ['-u', 'nobody'] : [];
  const child: ChildProcess = spawn(binary, [...asRoot, join(dir, 'pgbouncer.ini')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = new URL(targetUrl);
  url.hostname = '127.0.0.1';
  url.port = String(port);
  const show = async (what: string) => {
    const admin = new Client({ host: '127.0.0.1', port, user, database: 'pgbouncer' });
    await admin.connect();
    try {
      // The admin console speaks the simple query protocol only: a query without parameters is sent that way.
      return (await admin.query<Record<string, string>>(`SHOW ${what}`)).rows;
    } finally {
      await admin.end();
    }
  };
  const stop = async () => {
    if (child.exitCode === null) child.kill('SIGINT');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) break;
    if (await show('VERSION').then(() => true, () => false)) return { url: url.toString(), show, version, output: () => output, stop };
    if (Date.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await stop();
  throw new Error(`pgbouncer did not start:\n${output}`);
}

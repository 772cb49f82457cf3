import { chmod, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { PGLITE_WORKER_SOURCE, type PgliteWorkerData, type PgliteWorkerMessage } from './pglite-worker-source';

export interface EmbeddedPostgres {
  /** postgres:// URL of the local Unix-socket server (`?host=<directory>`); connect with poolSize 1. */
  url: string;
  /** Closes the socket server, then PGlite (which flushes its files), then the worker. Destroy the DataSource first. */
  stop(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  /** Told when the database worker fails after start-up (the connections then fail too); e.g. to log it. */
  onError?: (error: Error) => void;
}

/**
 * PostgreSQL in-process: PGlite keeps its files under `<dataDir>/pgdata` and pglite-socket serves it to the
 * ordinary pg driver, so TypeORM runs exactly as against a server. PGlite has no authentication, so the server
 * listens on a Unix socket in DATA_DIR (mode 0700, set at every start), never on TCP, where any local user
 * could connect: only the service's OS user reaches it. PGlite is
 * one session: the server runs one query at a time and keeps a transaction's statements together, hence a
 * pool of one. One process per directory: two PGlite instances on the same files corrupt them.
 *
 * It runs in a worker thread: PGlite executes queries synchronously in WebAssembly, which would otherwise
 * stall the service's event loop, and it loads Node built-ins with dynamic import(), which Jest's module
 * sandbox refuses (a worker runs outside it).
 */
export async function startEmbeddedPostgres(
  dataDir: string,
  options: EmbeddedPostgresOptions = {},
): Promise<EmbeddedPostgres> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  // mkdir's mode applies only to a directory it creates (and passes the umask): an existing one is narrowed too.
  await chmod(dataDir, 0o700);
  const socketDir = await socketDirectory(dataDir);
  const socketPath = join(socketDir.path, SOCKET_NAME);
  // Left by a process that died: the data-dir lock says no other process serves this directory.
  await rm(socketPath, { force: true });
  const workerData: PgliteWorkerData = {
    pgliteModule: require.resolve('@electric-sql/pglite'),
    socketModule: require.resolve('@electric-sql/pglite-socket'),
    pgdata: join(dataDir, 'pgdata'),
    socketPath,
  };
  const worker = new Worker(PGLITE_WORKER_SOURCE, { eval: true, workerData });
  let exited = false;
  worker.once('exit', () => {
    exited = true;
  });
  await nextMessage(worker, 'started').catch(async (error: unknown) => {
    await worker.terminate();
    await socketDir.remove();
    throw error;
  });
  await chmod(socketPath, 0o600);
  // An error after start-up ends the worker and every connection with it; unheard, Node would rethrow it here.
  worker.on('error', (error) => options.onError?.(error));
  let stopping: Promise<void> | null = null;
  return {
    url: `postgres://postgres@localhost/postgres?host=${encodeURIComponent(socketDir.path)}`,
    stop() {
      stopping ??= (async () => {
        if (exited) return;
        const stopped = nextMessage(worker, 'stopped');
        worker.postMessage('stop');
        try {
          await stopped;
        } finally {
          await worker.terminate();
          await socketDir.remove();
        }
      })();
      return stopping;
    },
  };
}

/** The name libpq and pg look for in the `host` directory (port 5432). */
const SOCKET_NAME = '.s.PGSQL.5432';
/** sun_path holds 108 bytes on Linux, 104 on macOS; keep a margin. */
const MAX_SOCKET_PATH = 100;

/**
 * DATA_DIR itself; when its path is too long for a socket address, a fresh private directory (mkdtemp creates
 * it 0700) that is removed at stop.
 */
async function socketDirectory(dataDir: string): Promise<{ path: string; remove(): Promise<void> }> {
  // Absolute: the pg driver takes a host that starts with "/" for a socket directory.
  const own = resolve(dataDir);
  if (Buffer.byteLength(join(own, SOCKET_NAME)) <= MAX_SOCKET_PATH) {
    return { path: own, remove: () => rm(join(own, SOCKET_NAME), { force: true }) };
  }
  const path = await mkdtemp(join(tmpdir(), 'auth-pg-'));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/** Resolves with the detail of the next message of `kind`; rejects if the worker reports an error or dies. */
function nextMessage(worker: Worker, kind: 'started' | 'stopped'): Promise<string> {
  return new Promise((resolve, reject) => {
    const cleanup = (): void => {
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
    };
    const onMessage = (message: PgliteWorkerMessage): void => {
      cleanup();
      if (message.kind === kind) resolve(message.detail);
      else reject(new Error(`embedded PostgreSQL: ${message.detail}`));
    };
    const onError = (error: Error): void => {
      cleanup();
      reject(error);
    };
    const onExit = (code: number): void => {
      cleanup();
      reject(new Error(`embedded PostgreSQL worker exited with code ${code}`));
    };
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
  });
}

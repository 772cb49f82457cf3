import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { PGLITE_WORKER_SOURCE, type PgliteWorkerData, type PgliteWorkerMessage } from './pglite-worker-source';

export interface EmbeddedPostgres {
  /** postgres:// URL of the local socket server; connect with poolSize 1. */
  url: string;
  /** Closes the socket server, then PGlite (which flushes its files), then the worker. Destroy the DataSource first. */
  stop(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  /** Told when the database worker fails after start-up (the connections then fail too); e.g. to log it. */
  onError?: (error: Error) => void;
}

/**
 * PostgreSQL in-process: PGlite keeps its files under `<dataDir>/pgdata` and pglite-socket serves it on
 * 127.0.0.1 (a free port) to the ordinary pg driver, so TypeORM runs exactly as against a server. PGlite is
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
  const workerData: PgliteWorkerData = {
    pgliteModule: require.resolve('@electric-sql/pglite'),
    socketModule: require.resolve('@electric-sql/pglite-socket'),
    pgdata: join(dataDir, 'pgdata'),
  };
  const worker = new Worker(PGLITE_WORKER_SOURCE, { eval: true, workerData });
  let exited = false;
  worker.once('exit', () => {
    exited = true;
  });
  const address = await nextMessage(worker, 'started').catch(async (error: unknown) => {
    await worker.terminate();
    throw error;
  });
  // An error after start-up ends the worker and every connection with it; unheard, Node would rethrow it here.
  worker.on('error', (error) => options.onError?.(error));
  let stopping: Promise<void> | null = null;
  return {
    url: `postgres://postgres@${address}/postgres`,
    stop() {
      stopping ??= (async () => {
        if (exited) return;
        const stopped = nextMessage(worker, 'stopped');
        worker.postMessage('stop');
        try {
          await stopped;
        } finally {
          await worker.terminate();
        }
      })();
      return stopping;
    },
  };
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

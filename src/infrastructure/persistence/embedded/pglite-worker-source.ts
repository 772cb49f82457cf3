/** What the embedded-PostgreSQL worker is started with: absolute module paths, resolved by the parent. */
export interface PgliteWorkerData {
  pgliteModule: string;
  socketModule: string;
  pgdata: string;
  /** The Unix socket the server listens on (its directory is the owner's only). */
  socketPath: string;
}

/** started: detail = the socket path; stopped: detail = ""; error: detail = the failure. */
export interface PgliteWorkerMessage {
  kind: 'started' | 'stopped' | 'error';
  detail: string;
}

/**
 * The worker's code, plain CommonJS evaluated by Node (not compiled, so it runs from src/ and dist/ alike).
 * maxConnections is a few, not one: a pool that drops an idle connection may dial again before the server
 * has seen the old socket close; the server still runs one query at a time.
 */
export const PGLITE_WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { PGlite } = require(workerData.pgliteModule);
const { PGLiteSocketServer } = require(workerData.socketModule);
const report = (kind, detail) => parentPort.postMessage({ kind, detail });
const failure = (error) => (error && error.stack) || String(error);

(async () => {
  const db = await PGlite.create({ dataDir: workerData.pgdata });
  const server = new PGLiteSocketServer({ db, path: workerData.socketPath, maxConnections: 4 });
  try {
    await server.start();
  } catch (error) {
    await db.close();
    throw error;
  }
  parentPort.once('message', () => {
    (async () => {
      await server.stop();
      await db.close();
    })().then(() => report('stopped', ''), (error) => report('error', failure(error)));
  });
  report('started', server.getServerConn());
})().catch((error) => report('error', failure(error)));
`;

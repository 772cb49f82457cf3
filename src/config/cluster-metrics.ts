import cluster from 'node:cluster';
import { AggregatorRegistry, type Registry } from 'prom-client';

const REQUEST = 'auth-service:cluster-metrics-req';
const RESPONSE = 'auth-service:cluster-metrics-res';
/** prom-client gives up on a silent worker after 5 s; the asking worker waits a little longer than that. */
const TIMEOUT_MS = 6_000;

interface Request {
  type: typeof REQUEST;
  id: number;
}

interface Response {
  type: typeof RESPONSE;
  id: number;
  text?: string;
  error?: string;
}

/**
 * One call of `work` at a time: callers arriving while it runs share its result. Scrapes of /metrics sent at once
 * (without METRICS_TOKEN, anyone's) used to cost one collection from every worker each, in the primary and every
 * worker, and a waiting listener each (an outside review, stop 48); now they cost one.
 */
export function singleFlight<T>(work: () => Promise<T>): () => Promise<T> {
  let running: Promise<T> | null = null;
  return () => {
    running ??= work().finally(() => {
      running = null;
    });
    return running;
  };
}

/**
 * WORKERS>1, in the primary: answers a worker's request for the cluster's metrics with prom-client's
 * AggregatorRegistry, which asks every worker for its registry over IPC and sums them (counters and
 * histograms add up; gauges say how, e.g. the backlog counts of the shared database take the max).
 */
export function serveClusterMetrics(): void {
  const aggregator = new AggregatorRegistry();
  const collect = singleFlight(() => aggregator.clusterMetrics());
  cluster.on('message', (worker, message: Partial<Request>) => {
    if (message?.type !== REQUEST || typeof message.id !== 'number') return;
    const id = message.id;
    const reply = (response: Omit<Response, 'type' | 'id'>) => {
      if (worker.isConnected()) worker.send({ type: RESPONSE, id, ...response });
    };
    collect().then(
      (text) => reply({ text }),
      (error: unknown) => reply({ error: error instanceof Error ? error.message : String(error) }),
    );
  });
}

/**
 * WORKERS>1, in a worker: lets the primary collect `registry`, and returns what GET /metrics serves there, the
 * sum over every worker, asked of the primary; so a scrape through the shared port sees the whole process tree,
 * whichever worker answers it.
 */
export function clusterMetricsSource(registry: Registry): () => Promise<string> {
  AggregatorRegistry.setRegistries([registry]);
  // Its constructor installs the worker's listener that answers the primary's collection requests.
  new AggregatorRegistry();
  let next = 0;
  return singleFlight(
    () =>
      new Promise<string>((resolve, reject) => {
        if (!process.send) return reject(new Error('not a cluster worker'));
        const id = next++;
        const timer = setTimeout(() => settle(new Error('the cluster primary did not answer with the metrics')), TIMEOUT_MS);
        const onMessage = (message: Partial<Response>) => {
          if (message?.type !== RESPONSE || message.id !== id) return;
          settle(message.error === undefined ? null : new Error(message.error), message.text ?? '');
        };
        const settle = (error: Error | null, text = '') => {
          clearTimeout(timer);
          process.off('message', onMessage);
          if (error) reject(error);
          else resolve(text);
        };
        process.on('message', onMessage);
        process.send({ type: REQUEST, id } satisfies Request);
      }),
  );
}

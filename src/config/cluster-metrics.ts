import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry, type MetricObjectWithValues, type MetricValueWithName, type Registry } from 'prom-client';

/** A worker asking the primary for the cluster's sum, and the answer. */
const REQUEST = 'auth-service:cluster-metrics-req';
const RESPONSE = 'auth-service:cluster-metrics-res';
/** The primary asking a worker for its own registry, and the answer. */
const COLLECT_REQUEST = 'auth-service:worker-metrics-req';
const COLLECT_RESPONSE = 'auth-service:worker-metrics-res';
/** The primary gives up on a silent worker after 5 s; the asking worker waits a little longer than that. */
const COLLECT_TIMEOUT_MS = 5_000;
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

interface CollectRequest {
  type: typeof COLLECT_REQUEST;
  id: number;
}

interface CollectResponse {
  type: typeof COLLECT_RESPONSE;
  id: number;
  metrics?: WorkerMetrics;
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

/** A worker's registry as prom-client hands it over (`registry.getMetricsAsJSON()`). */
export type WorkerMetrics = MetricObjectWithValues<MetricValueWithName<string>>[];

/**
 * The counts of workers that have died, kept in the cluster's sum. Without them every counter went down when a
 * worker died (its counts left the sum, its replacement started at 0: `auth_logins_total` 40 -> 10 after a kill -9
 * of one of two workers, a review of stop 50), which Prometheus reads as a reset: `increase()` over that scrape
 * counted the remaining total as new events. Only what only goes up is kept: counters and histograms (their
 * buckets, sum and count), summed per series; gauges describe a live process and leave with it.
 */
export class RetiredCounts {
  private readonly metrics = new Map<string, { head: Omit<WorkerMetrics[number], 'values'>; values: Map<string, MetricValueWithName<string>> }>();

  /** Adds a dead worker's last collected counts. */
  add(metrics: WorkerMetrics): void {
    for (const metric of metrics) {
      // At run time `type` is the name ('counter'), whatever prom-client's typings (an enum) say.
      const type = String(metric.type);
      if ((type !== 'counter' && type !== 'histogram') || metric.aggregator !== 'sum') continue;
      const { values, ...head } = metric;
      let kept = this.metrics.get(metric.name);
      if (!kept) {
        kept = { head, values: new Map() };
        this.metrics.set(metric.name, kept);
      }
      for (const value of values) {
        const key = seriesKey(value);
        const sum = kept.values.get(key);
        kept.values.set(key, sum ? { ...sum, value: sum.value + value.value } : { ...value, labels: { ...value.labels } });
      }
    }
  }

  /** The kept counts, in the form AggregatorRegistry.aggregate sums with the live workers'. */
  asMetrics(): WorkerMetrics {
    return [...this.metrics.values()].map(({ head, values }) => ({ ...head, values: [...values.values()] }));
  }
}

/**
 * The cluster's sums, never lower than they were served: a counter or histogram series the primary served is never
 * served lower again. Sums of floating-point counts depend on their order, and a worker's counts moving into
 * RetiredCounts changes that order: `0.1 + 0.2 + 0.3` served as 0.6000000000000001, then 0.6, which Prometheus reads
 * as a reset (the second review of stop 51's fix, and live on `nodejs_gc_duration_seconds_sum`). Bounded by the
 * number of series, as RetiredCounts is.
 */
export class MonotonicSums {
  private readonly served = new Map<string, number>();

  /** `metrics` with each counter and histogram value raised to the highest served for its series; remembers them. */
  clamp(metrics: WorkerMetrics): WorkerMetrics {
    return metrics.map((metric) => {
      const type = String(metric.type);
      if (type !== 'counter' && type !== 'histogram') return metric;
      return {
        ...metric,
        values: metric.values.map((value) => {
          const key = `${metric.name} ${seriesKey(value)}`;
          const highest = Math.max(this.served.get(key) ?? Number.NEGATIVE_INFINITY, value.value);
          this.served.set(key, highest);
          return highest === value.value ? value : { ...value, value: highest };
        }),
      };
    });
  }
}

function seriesKey(value: MetricValueWithName<string>): string {
  const labels = Object.entries(value.labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify([value.metricName ?? '', labels]);
}

/**
 * WORKERS>1, in the primary: answers a worker's request for the cluster's metrics. It asks every live worker for its
 * registry over IPC and sums them with prom-client's AggregatorRegistry.aggregate (counters and histograms add up;
 * gauges say how, e.g. the backlog counts of the shared database take the max), together with the counts of the
 * workers that have died (RetiredCounts): each worker's last collected registry is kept until it exits, then moved
 * there. A worker that does not answer within 5 s fails the scrape rather than giving a partial sum.
 */
export function serveClusterMetrics(): void {
  const last = new Map<number, WorkerMetrics>();
  const retired = new RetiredCounts();
  const monotonic = new MonotonicSums();
  cluster.on('exit', (worker) => {
    const metrics = last.get(worker.id);
    last.delete(worker.id);
    if (metrics) retired.add(metrics);
  });
  const pending = new Map<number, (response: Partial<CollectResponse>) => void>();
  let next = 0;
  const ask = (worker: Worker) =>
    new Promise<WorkerMetrics | null>((resolve, reject) => {
      const id = next++;
      const settle = (error: Error | null, metrics: WorkerMetrics | null = null) => {
        clearTimeout(timer);
        pending.delete(id);
        worker.off('exit', onExit);
        if (error) reject(error);
        else resolve(metrics);
      };
      const timer = setTimeout(() => settle(new Error(`worker ${worker.id} did not answer with its metrics within ${COLLECT_TIMEOUT_MS} ms`)), COLLECT_TIMEOUT_MS);
      // Dying while asked: its counts are the ones it last gave (now retired), and the scrape goes on without it.
      const onExit = () => settle(null);
      worker.on('exit', onExit);
      pending.set(id, (response) =>
        Array.isArray(response.metrics) ? settle(null, response.metrics) : settle(new Error(response.error ?? 'a worker sent no metrics')),
      );
      worker.send({ type: COLLECT_REQUEST, id } satisfies CollectRequest);
    });
  const collect = singleFlight(async () => {
    // Not a worker whose process never started (a failed fork): connected by its flag, it would never answer.
    const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined && w.isConnected() && !w.isDead());
    await Promise.all(
      workers.map(async (worker) => {
        const metrics = await ask(worker);
        if (metrics && !worker.isDead()) last.set(worker.id, metrics);
      }),
    );
    const summed = await AggregatorRegistry.aggregate([...last.values(), retired.asMetrics()]).getMetricsAsJSON();
    return AggregatorRegistry.aggregate([monotonic.clamp(summed)]).metrics();
  });
  cluster.on('message', (worker, message: Partial<Request> & Partial<CollectResponse>) => {
    if (message?.type === COLLECT_RESPONSE && typeof message.id === 'number') {
      pending.get(message.id)?.(message);
      return;
    }
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
 * WORKERS>1, in a worker: answers the primary's collection requests with `registry`, and returns what GET /metrics
 * serves there, the sum over every worker, asked of the primary; so a scrape through the shared port sees the whole
 * process tree, whichever worker answers it.
 */
export function clusterMetricsSource(registry: Registry): () => Promise<string> {
  process.on('message', (message: Partial<CollectRequest>) => {
    if (message?.type !== COLLECT_REQUEST || typeof message.id !== 'number' || !process.send) return;
    const id = message.id;
    registry.getMetricsAsJSON().then(
      (metrics) => process.send?.({ type: COLLECT_RESPONSE, id, metrics } satisfies CollectResponse),
      (error: unknown) => process.send?.({ type: COLLECT_RESPONSE, id, error: error instanceof Error ? error.message : String(error) } satisfies CollectResponse),
    );
  });
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

import { AggregatorRegistry, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { MonotonicSums, RetiredCounts, type WorkerMetrics } from '@config/cluster-metrics';

/** One worker's registry, as the primary collects it: a counter, a histogram and a gauge with the given figures. */
async function workerRegistry(logins: number, durations: number[], heap: number): Promise<WorkerMetrics> {
  const registry = new Registry();
  const registers = [registry];
  new Counter({ name: 'auth_logins_total', help: 'logins', labelNames: ['result'], registers }).inc({ result: 'success' }, logins);
  const histogram = new Histogram({ name: 'http_request_duration_seconds', help: 'durations', labelNames: ['route'], buckets: [0.1, 1], registers });
  for (const d of durations) histogram.observe({ route: '/login' }, d);
  new Gauge({ name: 'heap_bytes', help: 'heap', registers }).set(heap);
  return registry.getMetricsAsJSON();
}

const value = (text: string, series: string) => Number(new RegExp(`^${series.replace(/[{}+.]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1]);

/**
 * WORKERS>1: the primary sums the live workers' registries. Until stop 51 a dead worker's counts left the sum, so
 * every counter went down when a worker died (a review of stop 50: `auth_logins_total` 40 -> 10), which Prometheus
 * reads as a reset. The dead workers' last counts are now kept (counters and histograms; gauges leave with them).
 */
describe('cluster metrics: the counts of dead workers', () => {
  it('keeps the counters and histograms of every dead worker in the sum, and drops their gauges', async () => {
    const retired = new RetiredCounts();
    retired.add(await workerRegistry(30, [0.05, 0.5], 1000));
    retired.add(await workerRegistry(5, [2], 2000));
    const live = await workerRegistry(10, [0.05], 300);
    const text = await AggregatorRegistry.aggregate([live, retired.asMetrics()]).metrics();

    expect(value(text, 'auth_logins_total{result="success"}')).toBe(45);
    expect(value(text, 'http_request_duration_seconds_count{route="/login"}')).toBe(4);
    expect(value(text, 'http_request_duration_seconds_bucket{le="0.1",route="/login"}')).toBe(2);
    expect(value(text, 'http_request_duration_seconds_bucket{le="1",route="/login"}')).toBe(3);
    expect(value(text, 'http_request_duration_seconds_bucket{le="+Inf",route="/login"}')).toBe(4);
    expect(value(text, 'http_request_duration_seconds_sum{route="/login"}')).toBeCloseTo(2.6);
    // A dead process's heap is no part of the live tree's.
    expect(value(text, 'heap_bytes')).toBe(300);
  });

  it('adds nothing twice: asMetrics is a view, and what it returns is not changed by later deaths', async () => {
    const retired = new RetiredCounts();
    retired.add(await workerRegistry(7, [], 0));
    const first = retired.asMetrics();
    retired.add(await workerRegistry(3, [], 0));
    const counter = (metrics: WorkerMetrics) => metrics.find((m) => m.name === 'auth_logins_total')!.values[0]!.value;
    expect(counter(first)).toBe(7);
    expect(counter(retired.asMetrics())).toBe(10);
    expect(counter(retired.asMetrics())).toBe(10);
  });

  it('with no dead worker, keeps nothing', () => {
    expect(new RetiredCounts().asMetrics()).toEqual([]);
  });

  /**
   * A review of this change: sums of floating-point counts depend on their order, and a worker's counts moving into
   * the retired total changes it: 0.1 + 0.2 + 0.3 was served as 0.6000000000000001, then as 0.6, a decrease that
   * Prometheus reads as a reset. What the primary serves goes through MonotonicSums.
   */
  it('a worker retiring never lowers a served sum, however the floating-point additions are grouped', async () => {
    const seconds = async (value: number): Promise<WorkerMetrics> => {
      const registry = new Registry();
      new Counter({ name: 'auth_x_seconds_total', help: 'x', labelNames: ['route'], registers: [registry] }).inc({ route: 'a' }, value);
      return registry.getMetricsAsJSON();
    };
    const [w1, w2] = [await seconds(0.1), await seconds(0.2)];
    const retired = new RetiredCounts();
    retired.add(await seconds(0.3));
    const monotonic = new MonotonicSums();
    const serve = async (parts: WorkerMetrics[]) =>
      value(await AggregatorRegistry.aggregate([monotonic.clamp(await AggregatorRegistry.aggregate(parts).getMetricsAsJSON())]).metrics(), 'auth_x_seconds_total{route="a"}');
    const before = await serve([w1, w2, retired.asMetrics()]);
    retired.add(w2); // w2 dies with exactly the counts last collected
    const after = await serve([w1, retired.asMetrics()]);
    // Unclamped, the same counts grouped the other way sum lower.
    expect(value(await AggregatorRegistry.aggregate([w1, retired.asMetrics()]).metrics(), 'auth_x_seconds_total{route="a"}')).toBeLessThan(before);
    expect(after).toBeGreaterThanOrEqual(before);
  });
});

import { singleFlight } from '@config/cluster-metrics';

/**
 * WORKERS>1: each scrape of /metrics used to cost a collection from every worker, in the primary and in each worker,
 * however many arrived at once (an outside review, stop 48). Scrapes in flight together now share one collection;
 * the next one after it ends starts afresh, and a failure is shared too but not remembered.
 */
describe('cluster metrics: one collection in flight', () => {
  it('callers arriving while a collection runs share it; the next collection starts after it ends', async () => {
    let calls = 0;
    const release: Array<(text: string) => void> = [];
    const collect = singleFlight(() => {
      calls += 1;
      return new Promise<string>((resolve) => release.push(resolve));
    });
    const burst = Array.from({ length: 50 }, () => collect());
    expect(calls).toBe(1);
    release[0]!('metrics #1');
    await expect(Promise.all(burst)).resolves.toEqual(Array(50).fill('metrics #1'));
    const later = collect();
    expect(calls).toBe(2);
    release[1]!('metrics #2');
    await expect(later).resolves.toBe('metrics #2');
  });

  it('a failed collection fails the callers that shared it, and the next call tries again', async () => {
    let calls = 0;
    const collect = singleFlight(async () => {
      calls += 1;
      if (calls === 1) throw new Error('a worker did not answer');
      return 'recovered';
    });
    const shared = [collect(), collect()];
    await expect(Promise.all(shared)).rejects.toThrow('a worker did not answer');
    await expect(collect()).resolves.toBe('recovered');
    expect(calls).toBe(2);
  });
});

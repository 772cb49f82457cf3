import { DEFAULT_CLUSTER_OPTIONS, restartDelayMs } from '@config/cluster';

describe('replacing dead workers', () => {
  it('waits the minimum after a stable worker died, doubling while workers keep dying young, capped', () => {
    const delays = [0, 1, 2, 3, 4, 5, 6, 7, 8, 20, 100].map((deaths) => restartDelayMs(deaths, DEFAULT_CLUSTER_OPTIONS));
    expect(delays).toEqual([500, 500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000, 30000]);
  });
});

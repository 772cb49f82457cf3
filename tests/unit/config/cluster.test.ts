import { DEFAULT_CLUSTER_OPTIONS, restartDelayMs, SHUTDOWN_LIMIT_MS } from '@config/cluster';

describe('replacing dead workers', () => {
  it('waits the minimum after a stable worker died, doubling while workers keep dying young, capped', () => {
    const delays = [0, 1, 2, 3, 4, 5, 6, 7, 8, 20, 100].map((deaths) => restartDelayMs(deaths, DEFAULT_CLUSTER_OPTIONS));
    expect(delays).toEqual([500, 500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000, 30000]);
  });
});

describe('stopping the workers', () => {
  it("gives a worker longer than its own shutdown bound before killing it (the bound's end is the worker's call)", () => {
    // A worker's shutdown may take up to SHUTDOWN_LIMIT_MS (requests' 10 s, then its jobs and pools); killed before
    // that, an email in hand is cut mid-send (outside review, 2026-12-02: the primary killed at 15 s).
    expect(DEFAULT_CLUSTER_OPTIONS.shutdownTimeoutMs).toBeGreaterThan(SHUTDOWN_LIMIT_MS);
  });
});

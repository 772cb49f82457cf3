export interface OutboxRelayOptions {
  batchSize: number;
  /** How often an idle relay looks for rows other instances committed (its own commits poke it). */
  pollIntervalMs: number;
  /**
   * A commit of routine events only (relay-urgency.ts) wakes the relay this long afterwards, and the commits of
   * that window share its round; any other commit wakes it at once (0: always at once).
   */
  batchDelayMs: number;
  /**
   * Waits while the broker or the database is away: from min, doubling, up to max (see retryDelayMs); the broker's
   * return ends the wait at once (wake). A single event the broker refused (nack, no confirm in time) waits the same
   * way on its own attempts, and only it waits.
   */
  minBackoffMs: number;
  maxBackoffMs: number;
  /** How often the lag (pending count, age of the oldest pending event) is logged. */
  lagLogIntervalMs: number;
  /** Lag above this is logged as a warning. */
  lagWarnMs: number;
  /** Published rows are deleted once older than this. */
  retentionMs: number;
  purgeIntervalMs: number;
  /**
   * A purge deletes at most this many rows per round (one statement), then lets the next round publish first:
   * one slice takes a few milliseconds, where the whole purge of an hour's rows took seconds in one round.
   */
  purgeRowsPerRound: number;
}

export const DEFAULT_RELAY_OPTIONS: OutboxRelayOptions = {
  batchSize: 200,
  pollIntervalMs: 500,
  batchDelayMs: 50,
  minBackoffMs: 250,
  maxBackoffMs: 30_000,
  lagLogIntervalMs: 60_000,
  lagWarnMs: 60_000,
  retentionMs: 7 * 86_400_000,
  purgeIntervalMs: 3_600_000,
  purgeRowsPerRound: 1000,
};

/** The least time between two honoured wakes with no published round between them (see OutboxRelay.wake()), or minBackoffMs. */
export const WAKE_SPACING_MS = 1000;

export interface Clock {
  now(): Date;
  /**
   * Resolves once now() has reached `instant` (at once if it has): the system clock sleeps, a test's clock moves
   * itself there. Optional, so that a clock written for a test (`{ now: () => ... }`) needs none: waitUntil()
   * below then sleeps on real timers, which a clock that does not follow real time may not see pass. Either way a
   * caller reads now() again after the wait rather than assume it got there.
   */
  waitUntil?(instant: Date): Promise<void>;
}

/** Until `clock` says `instant` or later: its own waitUntil if it has one, else sleepUntil. */
export function waitUntil(clock: Clock, instant: Date): Promise<void> {
  return clock.waitUntil ? clock.waitUntil(instant) : sleepUntil(clock, instant);
}

/** Timers armed for one wait, at most: the wall clock may be stepped back meanwhile. */
const MAX_TIMERS = 3;

/**
 * Sleeps on real timers until `clock` says `instant` or later, re-arming while it is still short of it (a timer
 * runs on a monotonic clock and may fire a millisecond before the wall clock gets there); at most MAX_TIMERS
 * timers, each no longer than the first, so a clock stepped back (or one that does not move) ends the wait anyway.
 */
export async function sleepUntil(clock: Pick<Clock, 'now'>, instant: Date): Promise<void> {
  const first = instant.getTime() - clock.now().getTime();
  for (let timers = 0, remaining = first; timers < MAX_TIMERS && remaining > 0; timers++) {
    await new Promise<void>((resolve) => setTimeout(resolve, Math.min(remaining, first)));
    remaining = instant.getTime() - clock.now().getTime();
  }
}

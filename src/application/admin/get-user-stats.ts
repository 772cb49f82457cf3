import { inject, injectable } from 'inversify';
import type { Clock } from '../ports/clock';
import type { StatsPeriods, UserDirectory, UserStats } from '../ports/user-directory';
import { PORTS } from '../ports/tokens';

const DAY_MS = 86_400_000;
/**
 * The counts are exact as of at most this long ago (of the Clock): at 10^6 users one count is a scan of the
 * table (about 100-200 ms), so each instance computes them at most once per window, whatever the request rate.
 */
export const STATS_CACHE_SECONDS = 5;

/** The periods' starts in UTC: today 00:00, this ISO week's Monday 00:00, this month's 1st 00:00. */
export function statsPeriods(now: Date): StatsPeriods {
  const dayStart = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
  const sinceMonday = (dayStart.getUTCDay() + 6) % 7;
  return {
    now,
    dayStart,
    weekStart: new Date(dayStart.getTime() - sinceMonday * DAY_MS),
    monthStart: new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1)),
  };
}

/**
 * GET /admin/stats: exact counts, the periods taken from the Clock port; one computation per window, shared by
 * concurrent callers. A new UTC day starts a new computation at once (the periods moved).
 */
@injectable()
export class GetUserStats {
  private cached: { at: number; dayStart: number; stats: Promise<UserStats> } | null = null;

  constructor(
    @inject(PORTS.UserDirectory) private readonly directory: UserDirectory,
    @inject(PORTS.Clock) private readonly clock: Clock,
  ) {}

  execute(): Promise<UserStats> {
    const now = this.clock.now().getTime();
    const periods = statsPeriods(new Date(now));
    const hit = this.cached;
    if (hit && hit.dayStart === periods.dayStart.getTime() && now >= hit.at && now - hit.at < STATS_CACHE_SECONDS * 1000) return hit.stats;
    const stats = this.directory.stats(periods);
    const entry = { at: now, dayStart: periods.dayStart.getTime(), stats };
    this.cached = entry;
    // A failure is not kept: the next caller asks again.
    stats.catch(() => {
      if (this.cached === entry) this.cached = null;
    });
    return stats;
  }
}

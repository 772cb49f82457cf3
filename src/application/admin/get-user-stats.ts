import { inject, injectable } from 'inversify';
import type { Clock } from '../ports/clock';
import type { StatsPeriods, UserDirectory, UserStats } from '../ports/user-directory';
import { PORTS } from '../ports/tokens';

const DAY_MS = 86_400_000;

/**
 * The periods' starts in UTC: today 00:00, this ISO week's Monday 00:00, this month's 1st 00:00.
 */
export function statsPeriods(now: Date): StatsPeriods {
  const dayStart = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
  const sinceMonday = (dayStart.getUTCDay() + 6) % 7;
  return {
    dayStart,
    weekStart: new Date(dayStart.getTime() - sinceMonday * DAY_MS),
    monthStart: new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1)),
  };
}

/** GET /admin/stats: exact counts, the periods taken from the Clock port. */
@injectable()
export class GetUserStats {
  constructor(
    @inject(PORTS.UserDirectory) private readonly directory: UserDirectory,
    @inject(PORTS.Clock) private readonly clock: Clock,
  ) {}

  execute(): Promise<UserStats> {
    return this.directory.stats(statsPeriods(this.clock.now()));
  }
}

import { sleepUntil, type Clock } from '@application/ports/clock';
import type { AppConfig } from '@config/env';
import { createDataSource } from '@infrastructure/persistence/typeorm/data-source';

/** The host's clock moved by a fixed offset: the database's time as measured once, then kept by the host's ticks. */
export class OffsetClock implements Clock {
  constructor(
    private readonly host: Clock,
    /** db_now - host_now, in ms. */
    readonly offsetMs: number,
  ) {}

  now(): Date {
    return new Date(this.host.now().getTime() + this.offsetMs);
  }

  waitUntil(instant: Date): Promise<void> {
    return sleepUntil(this, instant);
  }
}

/**
 * The clock a command decides with: the database's, against a configured PostgreSQL. The CLI may run anywhere (a
 * laptop, a bastion, a job's pod) and its host's clock may be off by minutes or hours; every time it writes or
 * judges (a client's tokens cut-off, a signing key's age, activation and retirement, what purge-expired calls
 * expired) is read by the service instances against theirs, which are NTP-synced like the database (README). Until
 * stop 52 the host's own clock was used: `rotate-client-secret --revoke-tokens` from a host an hour ahead set the
 * cut-off an hour in the future (every token request of the new secret a 503 for that hour, and no rotation could
 * lower it), and `rotate-keys` from a host 20 minutes ahead deleted a retired key whose tokens were still live and
 * took a next key published moments ago as old enough to promote (an outside review). Measured once, at start, on a
 * connection of its own (before anything else reads the clock), as `offset = db_now - host_now` at the query's
 * midpoint; a command lasts seconds, so the host's drift meanwhile is nothing. Embedded mode (no DATABASE_URL): the
 * database runs in this process, on this host's clock: `host` itself.
 */
export async function databaseClock(config: AppConfig, host: Clock): Promise<Clock> {
  if (config.databaseUrl === null) return host;
  // Connected as the command's own pool will be: within DATABASE_QUERY_TIMEOUT or not at all (openDatabase).
  const dataSource = createDataSource({ url: config.databaseUrl, poolSize: 1, preparedStatements: false, connectTimeoutMs: config.databaseQueryTimeoutMs });
  await dataSource.initialize();
  try {
    const before = host.now().getTime();
    const rows = (await dataSource.query('SELECT clock_timestamp() AS now')) as { now: Date }[];
    const after = host.now().getTime();
    const dbNow = new Date(rows[0]!.now).getTime();
    return new OffsetClock(host, dbNow - Math.round((before + after) / 2));
  } finally {
    await dataSource.destroy();
  }
}

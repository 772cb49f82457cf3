import { Counter, type Registry } from 'prom-client';
import type { LoginResult, SecurityMetrics } from '@application/ports/security-metrics';

const LOGIN_RESULTS: readonly LoginResult[] = [
  'success',
  'invalid_credentials',
  'locked',
  'email_not_verified',
  'account_disabled',
  'rate_limited',
  'other',
];

/** The security counters, registered on one application instance's registry. */
export class PrometheusSecurityMetrics implements SecurityMetrics {
  private readonly logins: Counter<'result'>;
  private readonly reuse: Counter;
  private readonly lockouts: Counter;
  private readonly refusals: Counter<'group'>;

  /** `groups`: the rate-limit groups that exist; any other name is counted as `other` (bounded labels). */
  constructor(
    registry: Registry,
    private readonly groups: readonly string[],
  ) {
    const registers = [registry];
    this.logins = new Counter({
      name: 'auth_logins_total',
      help: 'Password login attempts by result (invalid_credentials covers unknown accounts and wrong passwords).',
      labelNames: ['result'],
      registers,
    });
    this.reuse = new Counter({
      name: 'auth_refresh_token_reuse_total',
      help: 'Replaced refresh tokens presented after the grace window (the session was revoked).',
      registers,
    });
    this.lockouts = new Counter({
      name: 'auth_lockouts_total',
      help: 'Login identifiers locked after too many consecutive failures.',
      registers,
    });
    this.refusals = new Counter({
      name: 'auth_rate_limit_refusals_total',
      help: 'Requests refused with 429 RATE_LIMITED, by rate-limit group.',
      labelNames: ['group'],
      registers,
    });
    // Every series exists from the start at 0, so rate() and absent() work before the first event.
    for (const result of LOGIN_RESULTS) this.logins.inc({ result }, 0);
    for (const group of groups) this.refusals.inc({ group }, 0);
  }

  login(result: LoginResult): void {
    this.logins.inc({ result: LOGIN_RESULTS.includes(result) ? result : 'other' });
  }

  lockout(): void {
    this.lockouts.inc();
  }

  refreshTokenReuse(): void {
    this.reuse.inc();
  }

  rateLimitRefusal(group: string): void {
    this.refusals.inc({ group: this.groups.includes(group) ? group : 'other' });
  }
}

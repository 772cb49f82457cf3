import { inject, injectable } from 'inversify';
import type { Clock } from '../ports/clock';
import type { DeferredWork } from '../ports/deferred-work';
import type { UnitOfWork } from '../ports/unit-of-work';
import type { ClientContext } from '../shared/client-context';
import { PORTS } from '../ports/tokens';

/**
 * Why an admin route refused its caller: not an admin (403), no longer one when the change started (403), acting
 * on their own account (409 `self`), or leaving no active admin (409 `last_active_admin`).
 */
export type AdminRefusalReason = 'not_admin' | 'no_longer_admin' | 'self' | 'last_active_admin';

/** One entry per caller and reason (and target: an admin's) per this long, per instance: a hammering token writes little. */
const QUIET_MS = 60_000;
/**
 * Refusals of a caller who is not (or no longer) an admin: the target is left out of the dedupe, since the caller
 * picks it (`/admin/users/<any uuid>`) and could otherwise write a row per request. The entry keeps the first target.
 */
const NON_ADMIN_REASONS: ReadonlySet<AdminRefusalReason> = new Set(['not_admin', 'no_longer_admin']);
/** Callers remembered for QUIET_MS; past this many the memory starts afresh (a flood of callers gets more entries). */
const MAX_REMEMBERED = 10_000;

/**
 * An admin route refused its caller: audited as `admin.refused` (outcome failure, the caller as actor, the account
 * the route names as subject), so that a token probing the admin API, or an admin trying what the guard rails
 * forbid, leaves a trace. The refused change rolled back with its transaction; this entry is written on its own,
 * after the answer (DeferredWork), at most once a minute on an instance per caller and reason for a caller who is
 * not an admin, per caller, reason and target for an admin's refusal (`self`, `last_active_admin`: only a real admin
 * gets those, and which account they tried matters to whoever reads the audit).
 */
@injectable()
export class RecordAdminRefusal {
  private readonly recent = new Map<string, number>();

  constructor(
    @inject(PORTS.UnitOfWork) private readonly uow: UnitOfWork,
    @inject(PORTS.Clock) private readonly clock: Clock,
    @inject(PORTS.DeferredWork) private readonly deferred: DeferredWork,
  ) {}

  execute(input: { actorId: string; subjectId: string | null; reason: AdminRefusalReason; client: ClientContext }): void {
    const now = this.clock.now();
    const target = NON_ADMIN_REASONS.has(input.reason) ? '*' : (input.subjectId ?? '');
    const key = `${input.actorId}|${input.reason}|${target}`;
    const last = this.recent.get(key);
    // A negative age (the clock stepped back since) counts as due: it held every entry back for the step plus a
    // minute (a review of clocks, stop 65).
    const age = last === undefined ? Number.POSITIVE_INFINITY : now.getTime() - last;
    if (age >= 0 && age < QUIET_MS) return;
    if (this.recent.size >= MAX_REMEMBERED) this.recent.clear();
    this.recent.set(key, now.getTime());
    this.deferred.defer('admin refusal audit', () =>
      this.uow.run((repos) =>
        repos.audit.record({
          type: 'admin.refused',
          outcome: 'failure',
          actorId: input.actorId,
          subjectId: input.subjectId,
          reason: input.reason,
          ip: input.client.ip,
          userAgent: input.client.userAgent,
          requestId: input.client.requestId ?? null,
          occurredAt: now,
        }),
      ),
    );
  }
}

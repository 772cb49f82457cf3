import { Counter, Registry, collectDefaultMetrics } from 'prom-client';
import type { DataSource } from 'typeorm';
import type { AuditLog } from '@application/ports/audit-log';
import type { Clock } from '@application/ports/clock';
import type { SecurityMetrics } from '@application/ports/security-metrics';
import { registerBacklogGauges } from '@infrastructure/metrics/backlog-gauges';
import { type CountScheduler, CountingAuditLog } from '@infrastructure/metrics/counting-audit-log';
import { PrometheusSecurityMetrics } from '@infrastructure/metrics/prometheus-security-metrics';
import { TypeOrmEmailQueue } from '@infrastructure/persistence/typeorm/typeorm-email-outbox';
import { TypeOrmOutboxStore } from '@infrastructure/persistence/typeorm/typeorm-outbox-store';
import { GATE_REFUSALS, type GateRefusal } from '@infrastructure/security/argon2/argon2-password-hasher';
import { createRequestDurations, type HttpMetrics } from '@interface/http/metrics/http-metrics';
import { MetricsEndpoint } from '@interface/http/metrics/metrics-endpoint';
import { clusterMetricsSource } from './cluster-metrics';
import { createClientErrorCounter } from './refused-requests';

/** Time one backlog COUNT may take during a scrape before its gauge reports -1. */
const BACKLOG_COUNT_TIMEOUT_MS = 1000;
/** How long a backlog count is reported again before the next scrape counts anew (per process, not per scrape). */
const BACKLOG_REFRESH_MS = 5000;

export interface Metrics {
  /** This application's own registry (not prom-client's global one: tests run several apps in one process). */
  registry: Registry;
  security: SecurityMetrics;
  http: HttpMetrics;
  /** Requests the HTTP server answered below the app, by status and reason (refused-requests.ts). */
  clientErrors: Counter<'status' | 'reason'>;
  /** Wraps each transaction's audit log so that recorded login outcomes, lockouts and reuse are counted. */
  countAudit(audit: AuditLog, afterCommit?: CountScheduler): AuditLog;
  /** The outbox and email backlog gauges, counted on the database at scrape time, at most every 5 s (on `clock`). */
  watchBacklog(dataSource: DataSource, clock: Clock): void;
  /** The password hasher's refusals by reason, read from its live counts at scrape time. */
  watchHashing(refused: Readonly<Record<GateRefusal, number>>): void;
  /** The strength estimator's refusals by reason (its own gate), read the same way. */
  watchStrengthEstimates(refused: Readonly<Record<GateRefusal, number>>): void;
}

export interface MetricsOptions {
  /** METRICS_TOKEN: the bearer secret GET /metrics requires; null = none (firewall the endpoint). */
  metricsToken: string | null;
  /** The rate-limit groups (bounded values of the refusal counter's `group` label). */
  rateLimitGroups: readonly string[];
  /** WORKERS>1, in a worker: GET /metrics serves the sum over every worker (see cluster-metrics.ts). */
  clusterWorker?: boolean;
}

export function createMetrics(options: MetricsOptions): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const security = new PrometheusSecurityMetrics(registry, options.rateLimitGroups);
  return {
    registry,
    security,
    http: {
      requestDurations: createRequestDurations(registry),
      security,
      endpoint: new MetricsEndpoint(registry, options.metricsToken, options.clusterWorker ? clusterMetricsSource(registry) : undefined),
    },
    clientErrors: createClientErrorCounter(registry),
    countAudit: (audit, afterCommit) => new CountingAuditLog(audit, security, afterCommit),
    watchBacklog(dataSource, clock) {
      const outbox = new TypeOrmOutboxStore(dataSource);
      const emails = new TypeOrmEmailQueue(dataSource);
      const counts = {
        unsentEvents: async () => (await outbox.pendingStats()).pending,
        emails: () => emails.countByState(),
      };
      registerBacklogGauges(registry, counts, { timeoutMs: BACKLOG_COUNT_TIMEOUT_MS, refreshMs: BACKLOG_REFRESH_MS, clock });
    },
    watchHashing(refused) {
      gateRefusalCounter(registry, 'auth_password_hashing_refusals_total', 'Hashes and verifications not run: queue_timeout and queue_full answered 503, client_gone skipped (its client had left).', refused);
    },
    watchStrengthEstimates(refused) {
      gateRefusalCounter(registry, 'auth_password_strength_refusals_total', 'Password strength estimates not run (zxcvbn worker saturated): queue_timeout and queue_full answered 503.', refused);
    },
  };
}

/** A gate's refusals by reason as a counter: the gate counts, a scrape copies its counts (reset, then add each). */
function gateRefusalCounter(registry: Registry, name: string, help: string, refused: Readonly<Record<GateRefusal, number>>): void {
  new Counter({
    name,
    help,
    labelNames: ['reason'],
    registers: [registry],
    collect() {
      this.reset();
      for (const reason of GATE_REFUSALS) this.inc({ reason }, refused[reason]);
    },
  });
}

/**
 * `npm test` runs the suites in two groups: most of them on three jest workers, then these one at a time.
 * Serial: suites that measure time (another worker's load would skew them), and suites whose assertions have a
 * deadline that another worker's load could push them past: outages and deadlines (a query, an SMTP lease, a Redis
 * command), revocation across service processes, several service processes or a Redis Cluster at once.
 * Ports are not a reason any more (since stop 32): the servers a suite starts itself take their ports from a range
 * of their jest worker's own (tests/support/ports.ts: freePort, listenOnLoopback, TcpProxy), which neither the
 * kernel nor another worker hands out, so a suite may stop a server and expect its port to refuse, or hand a port
 * to a child process, beside another suite. tests/unit/test-groups.test.ts fails when a suite that measures time or
 * starts Redis servers of its own (SERIAL_MARKERS) is missing here.
 */
const SERIAL_SUITES = [
  // timing
  'tests/security/enumeration-timing.test.ts',
  'tests/security/timing.test.ts',
  'tests/unit/infrastructure/security/argon2-password-hasher.test.ts',
  'tests/unit/infrastructure/security/fast-password-hasher.test.ts',
  'tests/unit/infrastructure/security/zxcvbn-worker-strength-estimator.test.ts',
  'tests/security/hostile-input.test.ts',
  'tests/e2e/sdk-revocation-feed.test.ts',
  'tests/security/local-cache-two-instances.test.ts',
  // deadlines and outages
  'tests/integration/cache/cache-adapters.test.ts',
  'tests/integration/cache/health-refused-writes.test.ts',
  'tests/integration/cache/lockout-copy-outage.test.ts',
  'tests/integration/cache/redis-deadline.test.ts',
  'tests/integration/email/smtp-deadline-lease.test.ts',
  'tests/integration/messaging/amqp-reconnect-backoff.rabbitmq.test.ts',
  // a broker resource alarm blocks every publisher of the broker while it lasts
  'tests/integration/messaging/amqp-resource-alarm.rabbitmq.test.ts',
  'tests/integration/messaging/outbox-relay.rabbitmq.test.ts',
  'tests/integration/messaging/relay-wake.rabbitmq.test.ts',
  'tests/integration/persistence/query-deadline.test.ts',
  'tests/security/database-outage.test.ts',
  'tests/security/redis-outage.test.ts',
  'tests/security/redis-start-outage.test.ts',
  'tests/unit/config/http-server.test.ts',
  'tests/unit/interface/http/json-body.test.ts',
  // revocation across service processes; several processes or a Redis Cluster at once
  'tests/security/mfa-two-instances.test.ts',
  'tests/security/revocation-cache.test.ts',
  'tests/security/two-instances.test.ts',
  'tests/e2e/cluster.test.ts',
  'tests/integration/cache/redis-topologies.test.ts',
  'tests/unit/infrastructure/cache/redis-cluster-slots.test.ts',
];

/** What marks a suite that measures time or starts Redis servers of its own (checked by tests/unit/test-groups.test.ts). */
const SERIAL_MARKERS = /hrtime|performance\.now|redis-server/;

const pattern = `(${SERIAL_SUITES.map((p) => p.replace(/[.]/g, '\\.')).join('|')})$`;

module.exports = { SERIAL_SUITES, SERIAL_MARKERS, pattern };

if (require.main === module) process.stdout.write(pattern);

/**
 * `npm test` runs the suites in three groups: most of them on three jest workers; then the deadline group, two at a
 * time; then the timing group, one at a time with nothing beside it.
 *
 * Deadline group: suites whose assertions have a deadline that a loaded machine could push them past (outages and
 * deadlines of a query, an SMTP lease or a Redis command; revocation across service processes; several service
 * processes or a Redis Cluster at once). They wait on timers and on each other's processes far more than they
 * compute: one at a time they kept the two cores 20-45% busy (vmstat, stop 59), where the three workers of the
 * parallel group keep them at 97-100%, which is the load that was too much for them. Two at a time they share the
 * cores with one suite of their own kind, never with the parallel group.
 *
 * Timing group: suites that measure time (a second suite's load would skew what they compare), and the broker's
 * resource alarm, which blocks every publisher of the shared RabbitMQ while it lasts.
 *
 * Ports are not a reason any more (since stop 32): the servers a suite starts itself take their ports from a range
 * of their jest worker's own (tests/support/ports.ts: freePort, listenOnLoopback, TcpProxy), which neither the
 * kernel nor another worker hands out, so a suite may stop a server and expect its port to refuse, or hand a port
 * to a child process, beside another suite; the Redis topologies take theirs from a band of their worker's own
 * (tests/support/redis-topology-servers.ts). tests/unit/test-groups.test.ts fails when a suite that measures time
 * (TIMING_MARKERS) is missing from the timing group, or one that starts Redis servers of its own (SERIAL_MARKERS)
 * from both groups.
 */
const TIMING_SUITES = [
  'tests/security/enumeration-timing.test.ts',
  'tests/security/timing.test.ts',
  'tests/unit/infrastructure/security/argon2-password-hasher.test.ts',
  'tests/unit/infrastructure/security/fast-password-hasher.test.ts',
  'tests/unit/infrastructure/security/zxcvbn-worker-strength-estimator.test.ts',
  'tests/security/hostile-input.test.ts',
  'tests/e2e/sdk-revocation-feed.test.ts',
  'tests/security/local-cache-two-instances.test.ts',
  // the invalidation link's heartbeats against its silence and transit bounds
  'tests/integration/cache/cache-adapters.test.ts',
  // a broker resource alarm blocks every publisher of the broker while it lasts
  'tests/integration/messaging/amqp-resource-alarm.rabbitmq.test.ts',
];

const DEADLINE_SUITES = [
  // deadlines and outages
  'tests/integration/cache/health-refused-writes.test.ts',
  'tests/integration/cache/lockout-copy-outage.test.ts',
  'tests/integration/cache/redis-deadline.test.ts',
  'tests/integration/email/smtp-deadline-lease.test.ts',
  'tests/integration/messaging/amqp-reconnect-backoff.rabbitmq.test.ts',
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

const SERIAL_SUITES = [...TIMING_SUITES, ...DEADLINE_SUITES];

/** What marks a suite that measures time (checked by tests/unit/test-groups.test.ts: it must be in TIMING_SUITES). */
const TIMING_MARKERS = /hrtime|performance\.now/;
/** What marks a suite that measures time or starts Redis servers of its own (it must be in one of the two groups). */
const SERIAL_MARKERS = /hrtime|performance\.now|redis-server/;

/** A jest path pattern matching exactly these suites. */
const patternOf = (suites) => `(${suites.map((p) => p.replace(/[.]/g, '\\.')).join('|')})$`;

module.exports = { TIMING_SUITES, DEADLINE_SUITES, SERIAL_SUITES, TIMING_MARKERS, SERIAL_MARKERS };

// `node tests/support/serial-suites.cjs [all|deadline|timing]`: the pattern scripts/test.sh hands jest.
if (require.main === module) {
  const which = process.argv[2] ?? 'all';
  const groups = { all: SERIAL_SUITES, deadline: DEADLINE_SUITES, timing: TIMING_SUITES };
  if (!(which in groups)) {
    process.stderr.write(`unknown group ${which}: all, deadline or timing\n`);
    process.exit(2);
  }
  process.stdout.write(patternOf(groups[which]));
}

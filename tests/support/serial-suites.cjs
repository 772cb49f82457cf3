/**
 * `npm test` runs the suites in two groups: most of them on two jest workers, then these one at a time.
 * Serial: suites that measure time (a second worker's load would skew them), and suites that stop a server and
 * then expect its port to refuse, or pick a free port before a child process binds it: with two workers another
 * suite's server could take that port in between and answer instead. tests/unit/test-groups.test.ts fails when
 * a suite that does such things is missing here.
 */
const SERIAL_SUITES = [
  // timing
  'tests/security/enumeration-timing.test.ts',
  'tests/security/timing.test.ts',
  'tests/unit/infrastructure/security/argon2-password-hasher.test.ts',
  'tests/unit/infrastructure/security/fast-password-hasher.test.ts',
  'tests/unit/infrastructure/security/zxcvbn-worker-strength-estimator.test.ts',
  // ports stopped and re-targeted, free ports handed to child processes, child processes
  'tests/e2e/cli-process.test.ts',
  'tests/e2e/cluster.test.ts',
  'tests/e2e/events.rabbitmq.test.ts',
  'tests/e2e/proxy-two-replicas.haproxy.test.ts',
  'tests/e2e/sdk-auth-client.test.ts',
  'tests/e2e/sdk-example.test.ts',
  'tests/e2e/sdk-revocation-feed.test.ts',
  'tests/integration/cache/cache-adapters.test.ts',
  'tests/integration/cache/redis-deadline.test.ts',
  'tests/integration/cache/redis-topologies.test.ts',
  'tests/integration/email/mailer-recipient.test.ts',
  'tests/integration/email/smtp-deadline-lease.test.ts',
  'tests/integration/email/smtp-delivery.test.ts',
  'tests/integration/email/smtp-rejections.test.ts',
  'tests/integration/messaging/example-subscriber.rabbitmq.test.ts',
  'tests/integration/messaging/outbox-relay.rabbitmq.test.ts',
  'tests/integration/persistence/pgbouncer.test.ts',
  'tests/integration/persistence/query-deadline.test.ts',
  'tests/security/database-outage.test.ts',
  'tests/security/hostile-input.test.ts',
  'tests/security/local-cache-two-instances.test.ts',
  'tests/security/mfa-two-instances.test.ts',
  'tests/security/redis-outage.test.ts',
  'tests/security/revocation-cache.test.ts',
  'tests/security/two-instances.test.ts',
  'tests/unit/config/http-server.test.ts',
  'tests/unit/deploy/compose.test.ts',
  'tests/unit/infrastructure/cache/redis-cluster-slots.test.ts',
  'tests/unit/interface/http/json-body.test.ts',
  'tests/unit/sdk/auth-client.test.ts',
  'tests/unit/sdk/koa-middleware.test.ts',
  'tests/unit/sdk/revocation-list.test.ts',
  'tests/unit/sdk/service-token-source.test.ts',
  'tests/unit/sdk/token-verifier.test.ts',
];

/** What marks a suite as one of them (checked by tests/unit/test-groups.test.ts). */
const SERIAL_MARKERS = /freePort|spawn\(|startServiceProcess|runCli|tcp-proxy|TcpProxy|OAuthPeer|\.kill\(|SMTPServer|redis-server|pgbouncer|haproxy|hrtime|performance\.now/;

const pattern = `(${SERIAL_SUITES.map((p) => p.replace(/[.]/g, '\\.')).join('|')})$`;

module.exports = { SERIAL_SUITES, SERIAL_MARKERS, pattern };

if (require.main === module) process.stdout.write(pattern);

import type { AuditEntry } from '@application/ports/audit-log';
import type { LoginResult, SecurityMetrics } from '@application/ports/security-metrics';
import { selfAuditEntry } from '@application/shared/audit-entry';
import { createMetrics, type Metrics } from '@config/metrics';
import { registerBacklogGauges } from '@infrastructure/metrics/backlog-gauges';
import { CountingAuditLog } from '@infrastructure/metrics/counting-audit-log';
import { createHttpApp } from '@interface/http/app';
import { MetricsEndpoint } from '@interface/http/metrics/metrics-endpoint';
import request from 'supertest';
import { parseExposition, samplesOf, valueOf } from '@tests/support/prometheus';
import { DEFAULT_CONFIG, buildTestApp } from './support/test-app';

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;
const IPV4 = /\b\d{1,3}(\.\d{1,3}){3}\b/;
const IPV6 = /(^|[^0-9a-z])([0-9a-f]{0,4}:){2,}[0-9a-f]{0,4}/i;
/** prom-client's default gauges that promtool would flag (a gauge named _total); named so that no other may. */
const PROM_CLIENT_TOTAL_GAUGES = ['nodejs_active_resources_total', 'nodejs_active_handles_total', 'nodejs_active_requests_total'];
const LOGIN_LIMITED = {
  ...DEFAULT_CONFIG.rateLimits,
  login: { ip: { name: 'login-ip', limit: 1, windowSeconds: 60 }, identifier: null },
};

/**
 * The real HTTP app on its own registry, after traffic that could leak into labels if the metrics were careless:
 * an email and a forwarded IP in a login, a session id in a path, a 404, a rate-limit refusal; plus the backlog
 * gauges with one count that fails.
 */
async function scrapeAfterTraffic(): Promise<{ text: string; metrics: Metrics }> {
  const t = await buildTestApp();
  const metrics = createMetrics({ metricsToken: null, rateLimitGroups: Object.keys(LOGIN_LIMITED) });
  registerBacklogGauges(metrics.registry, { unsentEvents: async () => 3, emails: () => Promise.reject(new Error('db down')) }, { timeoutMs: 50 });
  // /metrics serves the endpoint bound in the container: this test's registry.
  t.kit.container.rebind(MetricsEndpoint).toConstantValue(metrics.http.endpoint);
  const app = createHttpApp({ ...t.deps, metrics: metrics.http, config: { ...t.deps.config, rateLimits: LOGIN_LIMITED } });
  const http = () => request(app.callback());
  const { tokens } = await t.seedLoggedInUser();
  const sessionId = [...t.db.tables.sessions.values()].at(-1)!.id;
  const login = { email: 'ada.lovelace@example.com', password: 'not the password' };
  await http().post('/api/v1/auth/login').set('X-Forwarded-For', '198.51.100.23').send(login).expect(401);
  await http().post('/api/v1/auth/login').send(login).expect(429);
  await http().delete(`/api/v1/users/me/sessions/${sessionId}`).set('Authorization', `Bearer ${tokens.accessToken}`);
  await http().get(`/no/such/${sessionId}`).expect(404);
  await http().get('/metrics').expect(200);
  const res = await http().get('/metrics').expect(200).expect('Content-Type', /^text\/plain; version=0\.0\.4/);
  return { text: res.text, metrics };
}

describe('GET /metrics exposition', () => {
  let text: string;
  beforeAll(async () => {
    ({ text } = await scrapeAfterTraffic());
  });

  it('parses as the Prometheus text format, every family with HELP and TYPE', () => {
    const families = parseExposition(text);
    expect(families.length).toBeGreaterThan(10);
    for (const family of families) {
      expect({ name: family.name, help: family.help.length > 0, typed: family.type !== 'UNTYPED' }).toEqual({ name: family.name, help: true, typed: true });
    }
    const names = families.map((f) => f.name);
    expect(names).toEqual(
      expect.arrayContaining([
        'http_request_duration_seconds',
        'auth_logins_total',
        'auth_refresh_token_reuse_total',
        'auth_lockouts_total',
        'auth_rate_limit_refusals_total',
        'http_client_errors_total',
        'auth_outbox_unsent_events',
        'auth_email_outbox_messages',
        'process_cpu_seconds_total',
      ]),
    );
    expect(new Set(names).size).toBe(names.length);
  });

  it('names follow the conventions: snake_case, _total counters, durations in _seconds', () => {
    for (const { name, type } of parseExposition(text)) {
      expect(name).toMatch(/^[a-z][a-z0-9]*(_[a-z0-9]+)*$/);
      if (type === 'COUNTER') expect(name).toMatch(/_total$/);
      else if (!PROM_CLIENT_TOTAL_GAUGES.includes(name)) expect(name).not.toMatch(/_total$/);
      if (/duration|latency|lag|_time/.test(name)) expect(name).toMatch(/_seconds(_total)?$/);
    }
  });

  it('no label carries an email, a UUID or an IP address', () => {
    const values = samplesOf(text).flatMap((s) => Object.values(s.labels));
    expect(values.length).toBeGreaterThan(50);
    const leaks = values.filter((v) => v.includes('@') || UUID.test(v) || IPV4.test(v) || IPV6.test(v));
    expect(leaks).toEqual([]);
  });

  it('labels requests by route pattern and final status; an unrouted path is "unmatched"', () => {
    const samples = samplesOf(text);
    const count = 'http_request_duration_seconds_count';
    expect(valueOf(samples, count, { method: 'GET', route: '/metrics', status: '200' })).toBe(1);
    expect(valueOf(samples, count, { method: 'GET', route: 'unmatched', status: '404' })).toBe(1);
    // Mapped errors are seen with their final status: 401 from the use case, 429 from the rate limit.
    const routes = new Set(samples.filter((s) => s.name === count).map((s) => s.labels.route));
    const statuses = new Set(samples.filter((s) => s.name === count).map((s) => s.labels.status));
    expect([...statuses]).toEqual(expect.arrayContaining(['401', '429']));
    for (const route of routes) expect(route === 'unmatched' || route!.startsWith('/')).toBe(true);
  });

  it('counts the rate-limit refusal by group, and the login it refused', () => {
    const samples = samplesOf(text);
    expect(valueOf(samples, 'auth_rate_limit_refusals_total', { group: 'login' })).toBe(1);
    expect(valueOf(samples, 'auth_rate_limit_refusals_total', { group: 'register' })).toBe(0);
    expect(valueOf(samples, 'auth_logins_total', { result: 'rate_limited' })).toBe(1);
  });

  it('reports a backlog count that failed as -1 instead of failing the scrape', () => {
    const samples = samplesOf(text);
    expect(valueOf(samples, 'auth_outbox_unsent_events')).toBe(3);
    expect(valueOf(samples, 'auth_email_outbox_messages', { state: 'queued' })).toBe(-1);
    expect(valueOf(samples, 'auth_email_outbox_messages', { state: 'failed' })).toBe(-1);
  });
});

describe('METRICS_TOKEN', () => {
  it('requires the bearer secret when one is configured, compared whole', async () => {
    const t = await buildTestApp();
    const metrics = createMetrics({ metricsToken: 'scrape-secret-0123456789', rateLimitGroups: [] });
    t.kit.container.rebind(MetricsEndpoint).toConstantValue(metrics.http.endpoint);
    const http = () => request(createHttpApp({ ...t.deps, metrics: metrics.http }).callback());
    const anonymous = await http().get('/metrics').expect(401);
    expect(anonymous.headers['www-authenticate']).toBe('Bearer');
    expect(anonymous.text).not.toContain('process_cpu');
    await http().get('/metrics').set('Authorization', 'Bearer scrape-secret-012345678').expect(401);
    await http().get('/metrics').set('Authorization', 'Bearer scrape-secret-0123456789x').expect(401);
    await http().get('/metrics').set('Authorization', 'Bearer scrape-secret-0123456789').expect(200);
  });

  it('admits anyone when none is configured', () => {
    const endpoint = new MetricsEndpoint(createMetrics({ metricsToken: null, rateLimitGroups: [] }).registry, null);
    expect(endpoint.admits('')).toBe(true);
  });
});

describe('CountingAuditLog', () => {
  const now = new Date('2030-01-01T00:00:00Z');
  const client = { ip: '203.0.113.7', userAgent: 'jest' };
  const entry = (type: AuditEntry['type'], reason: string | null = null) => selfAuditEntry(type, client, 'u1', now, reason);

  function counting() {
    const seen: string[] = [];
    const metrics: SecurityMetrics = {
      login: (result: LoginResult) => void seen.push(`login:${result}`),
      lockout: () => void seen.push('lockout'),
      refreshTokenReuse: () => void seen.push('reuse'),
      rateLimitRefusal: (group) => void seen.push(`refused:${group}`),
    };
    const recorded: AuditEntry[] = [];
    const log = new CountingAuditLog({ record: async (e) => void recorded.push(e) }, metrics);
    return { log, seen, recorded };
  }

  it('counts login outcomes, lockouts and refresh-token reuse from what the audit trail records', async () => {
    const { log, seen, recorded } = counting();
    await log.record(entry('login.succeeded'));
    for (const reason of ['unknown_account', 'wrong_password', 'credentials_changed', 'locked', 'email_not_verified', 'account_disabled', 'odd']) {
      await log.record(entry('login.failed', reason));
    }
    await log.record(entry('account.locked', 'locked_900s'));
    await log.record(entry('refresh_token.reuse_detected', 'refresh_token_reuse'));
    await log.record(entry('password.changed'));
    expect(seen).toEqual([
      'login:success',
      'login:invalid_credentials',
      'login:invalid_credentials',
      'login:invalid_credentials',
      'login:locked',
      'login:email_not_verified',
      'login:account_disabled',
      'login:other',
      'lockout',
      'reuse',
    ]);
    expect(recorded).toHaveLength(11);
  });

  it("counts the second step's refusals as the caller was told: a replay as invalid credentials, the account quota as rate limited", async () => {
    const { log, seen } = counting();
    for (const reason of ['wrong_mfa_code', 'mfa_code_replayed', 'mfa_locked', 'attempts_in_flight', 'mfa_rate_limited']) {
      await log.record(entry('login.failed', reason));
    }
    expect(seen).toEqual(['login:invalid_credentials', 'login:invalid_credentials', 'login:locked', 'login:rate_limited', 'login:rate_limited']);
  });

  it('counts nothing when the entry could not be written', async () => {
    const seen: string[] = [];
    const metrics = { login: () => void seen.push('login'), lockout: () => undefined, refreshTokenReuse: () => undefined, rateLimitRefusal: () => undefined };
    const log = new CountingAuditLog({ record: () => Promise.reject(new Error('write failed')) }, metrics);
    await expect(log.record(entry('login.succeeded'))).rejects.toThrow('write failed');
    expect(seen).toEqual([]);
  });
});

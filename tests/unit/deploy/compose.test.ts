import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { requestGraceMs } from '@config/application';
import { DEFAULT_CLUSTER_OPTIONS, SHUTDOWN_LIMIT_MS } from '@config/cluster';
import { loadConfig } from '@config/env';
import { ROUTES } from '@interface/http/routes';
import { at, loadManifests, ROOT, variablesTheServiceReads } from '../../support/k8s-manifests';

/**
 * docker/docker-compose.yml and docker/haproxy.cfg, checked for structure and consistency (no Docker engine
 * here: the stack itself was not run).
 */
type Service = {
  image?: string; command?: string[]; ports?: string[]; environment?: Record<string, string>; deploy?: { replicas?: number };
  healthcheck?: { test: string[] }; depends_on?: Record<string, { condition: string }>; networks?: unknown;
  stop_grace_period?: string; init?: boolean;
};
const compose = parse(readFileSync(join(ROOT, 'docker/docker-compose.yml'), 'utf8'), { merge: true }) as { services: Record<string, Service> };
const haproxy = readFileSync(join(ROOT, 'docker/haproxy.cfg'), 'utf8');
const { app, proxy, migrate } = compose.services as Record<'app' | 'proxy' | 'migrate', Service>;
/** A compose duration (`40s`, `1m30s`) in ms. */
const durationMs = (value: string): number => {
  const match = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(value);
  if (!match || value === '') throw new Error(`not a compose duration: ${value}`);
  return ((Number(match[1] ?? 0) * 60 + Number(match[2] ?? 0)) * 60 + Number(match[3] ?? 0)) * 1000;
};
/** `${VAR:-default}` as compose substitutes it with VAR unset (its default), `${VAR:?message}` with VAR set. */
const substituted = (env: Record<string, string>) =>
  Object.fromEntries(
    Object.entries(env).map(([k, v]) => [
      k,
      v
        .replace(/\$\{(\w+):-([^}]*)\}/g, (_, _name: string, fallback: string) => fallback)
        .replace(/\$\{(\w+):\?[^}]*\}/g, (_, name: string) => (name === 'ENCRYPTION_KEY' ? randomBytes(32).toString('hex') : 'https://auth.example.com')),
    ]),
  );

describe('docker/: two replicas behind a proxy', () => {
  it('two replicas of the service, reachable only through the proxy, which is the official HAProxy image', () => {
    expect(app!.deploy?.replicas).toBe(2);
    expect(app!.ports).toBeUndefined();
    expect(proxy!.image).toMatch(/^haproxy:\d/);
    expect(proxy!.ports).toEqual(['3000:8080']);
    expect(haproxy).toMatch(/^\s*bind :8080$/m);
  });

  it('TRUSTED_PROXIES is the proxy\'s fixed address, on the replicas\' network, and the proxy replaces X-Forwarded-For', () => {
    const address = at<string>(proxy, 'networks', 'backend', 'ipv4_address');
    expect(app!.environment!.TRUSTED_PROXIES).toBe(address);
    expect(app!.networks).toEqual(['backend']);
    const subnet = at<string>(compose, 'networks', 'backend', 'ipam', 'config', 0, 'subnet');
    expect(address.split('.').slice(0, 3).join('.')).toBe(subnet.split('.').slice(0, 3).join('.'));
    expect(loadConfig(substituted(app!.environment!)).trustedProxies).toEqual([address]);
    const frontend = haproxy.slice(haproxy.indexOf('frontend http'), haproxy.indexOf('backend auth'));
    expect(frontend.indexOf('http-request del-header X-Forwarded-For')).toBeGreaterThan(-1);
    expect(frontend.indexOf('http-request del-header X-Forwarded-For')).toBeLessThan(frontend.indexOf('option forwardfor'));
  });

  it('the proxy refuses /metrics (public without METRICS_TOKEN: outside review 2026-11-30) and /health/* (a review of stop 62) before any replica', () => {
    const frontend = haproxy.slice(haproxy.indexOf('frontend http'), haproxy.indexOf('backend auth'));
    const rule = /^\s*http-request deny deny_status 403 if \{ path,url_dec -m reg -i (\S+) \}$/m.exec(frontend);
    expect(rule).not.toBeNull();
    const pattern = new RegExp(rule![1]!, 'i');
    for (const path of ['/metrics', '/metrics/', '//metrics', '/METRICS', '/health/ready', '/health/live', '/health', '//Health/ready']) expect(pattern.test(path)).toBe(true);
    for (const path of ['/api/v1/auth/login', '/metricsx', '/healthz', '/.well-known/jwks.json']) expect(pattern.test(path)).toBe(false);
  });

  it('the proxy health-checks every replica on /health/ready, finds them through Docker DNS, on the service\'s port', () => {
    const getRoutes = new Set(ROUTES.filter((r) => r.method === 'GET').map((r) => r.path));
    const check = /option httpchk GET (\S+)/.exec(haproxy)![1]!;
    expect(check).toBe('/health/ready');
    expect(getRoutes.has(check)).toBe(true);
    expect(haproxy).toMatch(/default-server check .*resolvers docker/);
    const [, slots, host, port] = /server-template \w+ (\d+) (\w+):(\d+)/.exec(haproxy)!;
    expect(Number(slots)).toBeGreaterThanOrEqual(app!.deploy!.replicas!);
    expect(host).toBe('app');
    expect(port).toBe(String(loadConfig(substituted(app!.environment!)).port));
    expect(app!.healthcheck!.test.join(' ')).toContain(`http://127.0.0.1:${port}/health/ready`);
    expect(proxy!.depends_on).toEqual({ app: { condition: 'service_healthy' } });
  });

  // A review of stop 62: the proxy's fixed address lay inside the range Docker hands out in order, so with
  // `--scale app=4` the fourth replica took 172.28.0.10 and the proxy, started last, could not; and nothing restarted
  // a replica that exited on a fault (the service exits 1 for its supervisor to restart it).
  it("the proxy's fixed address is outside the range Docker assigns; every long-running service restarts, the one-shot migration does not", () => {
    const network = parse(readFileSync(join(ROOT, 'docker/docker-compose.yml'), 'utf8')) as { networks: { backend: { ipam: { config: { subnet: string; ip_range?: string }[] } } } };
    const [pool] = network.networks.backend.ipam.config;
    const address = (proxy!.networks as { backend: { ipv4_address: string } }).backend.ipv4_address;
    const asNumber = (ip: string) => ip.split('.').reduce((n, part) => n * 256 + Number(part), 0);
    const inside = (ip: string, cidr: string) => {
      const [base, bits] = cidr.split('/');
      const size = 2 ** (32 - Number(bits));
      return asNumber(ip) >= asNumber(base!) && asNumber(ip) < asNumber(base!) + size;
    };
    expect(inside(address, pool!.subnet)).toBe(true);
    expect(pool!.ip_range).toBeDefined();
    expect(inside(pool!.ip_range!.split('/')[0]!, pool!.subnet)).toBe(true);
    expect(inside(address, pool!.ip_range!)).toBe(false);
    const services = compose.services as Record<string, Service & { restart?: string }>;
    for (const [name, service] of Object.entries(services)) {
      expect({ name, restart: service.restart }).toEqual({ name, restart: name === 'migrate' ? 'no' : 'unless-stopped' });
    }
  });

  // An outside review, 2026-12-07: on a fresh volume the postgres image first runs a server on its Unix socket alone;
  // pg_isready without -h asked that one, said ready, and the migration (over TCP) could find nothing listening.
  it('PostgreSQL counts as healthy only once it answers on TCP, where the migration connects', () => {
    const postgres = compose.services['postgres']!;
    expect(migrate!.depends_on!['postgres']).toEqual({ condition: 'service_healthy' });
    const test = postgres.healthcheck!.test;
    expect(test.slice(0, 2)).toEqual(['CMD', 'pg_isready']);
    expect(test[test.indexOf('-h') + 1]).toBe('127.0.0.1');
  });

  it('migrations run once, before the replicas, with the entrypoint of the Kubernetes init container; the replicas never migrate', () => {
    const deployment = loadManifests().flatMap((f) => f.objects).find((o) => o.kind === 'Deployment')!;
    expect(migrate!.command).toEqual(at(deployment, 'spec', 'template', 'spec', 'initContainers', 0, 'command'));
    expect(migrate!.image).toBe(app!.image);
    expect(app!.depends_on!.migrate).toEqual({ condition: 'service_completed_successfully' });
    expect(app!.environment!.MIGRATE_ON_START).toBeUndefined();
    expect(loadConfig(substituted(app!.environment!)).migrateOnStart).toBe(false);
  });

  it('the replicas\' environment is a complete production configuration of variables the service reads', () => {
    const env = substituted(app!.environment!);
    expect(loadConfig(env)).toMatchObject({ env: 'production', trustedProxies: ['172.28.0.10'] });
    const read = variablesTheServiceReads(env);
    expect(Object.keys(env).filter((name) => !read.has(name))).toEqual([]);
  });

  it('a stop waits for the replicas\' own shutdown bound before SIGKILL: outside review 2026-12-05', () => {
    // Docker's default is 10 s: less than the request grace alone (12 s with the default DATABASE_QUERY_TIMEOUT).
    const config = loadConfig(substituted(app!.environment!));
    const grace = durationMs(app!.stop_grace_period ?? '10s');
    expect(grace).toBeGreaterThan(requestGraceMs(config));
    // A process exits by itself within SHUTDOWN_LIMIT_MS of SIGTERM; a WORKERS>1 primary within its shutdown timeout.
    expect(grace).toBeGreaterThan(SHUTDOWN_LIMIT_MS);
    expect(grace).toBeGreaterThan(DEFAULT_CLUSTER_OPTIONS.shutdownTimeoutMs);
    expect(app!.stop_grace_period).toBe('40s');
    // `node` stays PID 1 (the image's CMD): the service catches SIGTERM itself from its first module on.
    expect(app!.init).toBeUndefined();
  });
});

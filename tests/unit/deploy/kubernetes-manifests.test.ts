import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { DEFAULT_CLUSTER_OPTIONS, SHUTDOWN_LIMIT_MS } from '@config/cluster';
import { loadConfig } from '@config/env';
import { parseEncryptionKey } from '@infrastructure/security/crypto/aes-gcm-secret-box';
import { ROUTES } from '@interface/http/routes';
import { at, DEPLOY_DIR, loadManifests, ROOT, schemaErrors, strictFieldErrors, variablesTheServiceReads, type K8sObject } from '../../support/k8s-manifests';

/** The API versions these manifests may use: current, not deprecated (the bundled schemas keep old ones too). */
const API_VERSIONS: Record<string, string> = {
  ConfigMap: 'v1', Secret: 'v1', Service: 'v1', Deployment: 'apps/v1',
  PodDisruptionBudget: 'policy/v1', HorizontalPodAutoscaler: 'autoscaling/v2',
};

type Container = { name: string; image: string; command?: string[]; ports?: { name: string; containerPort: number }[]; env?: { name: string; value?: string }[] } & Record<string, unknown>;

/** The command `npm run migrate` runs in the image (the built file: the image has no TypeScript). */
const MIGRATE_COMMAND = ['node', 'dist/src/interface/cli/migrate.js'];

const files = loadManifests();
const objects = files.flatMap((f) => f.objects);
const one = (kind: string): K8sObject => {
  const found = objects.filter((o) => o.kind === kind);
  expect(found).toHaveLength(1);
  return found[0]!;
};
const clone = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;
const podSpec = (workload: K8sObject) => at<Record<string, unknown>>(workload, 'spec', 'template', 'spec');
const containerOf = (workload: K8sObject) => at<Container>(workload, 'spec', 'template', 'spec', 'containers', 0);
/** The Deployment's init containers (the migrations). */
const initContainersOf = (workload: K8sObject) => at<Container[] | undefined>(workload, 'spec', 'template', 'spec', 'initContainers') ?? [];
/** Every container of the Deployment's pods: the service's and the migration's. */
const allContainers = () => [containerOf(one('Deployment')), ...initContainersOf(one('Deployment'))];
const matches = (selector: Record<string, string>, labels: Record<string, string>) =>
  Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels[k] === v);

describe('deploy/: Kubernetes manifests', () => {
  it('kustomization.yaml lists exactly the manifest files', () => {
    const kustomization = parse(readFileSync(join(DEPLOY_DIR, 'kustomization.yaml'), 'utf8')) as { resources: string[] };
    expect([...kustomization.resources].sort()).toEqual(files.map((f) => f.file));
  });

  it('has one of each: Deployment, Service, PodDisruptionBudget, HorizontalPodAutoscaler, Secret, ConfigMap; current API versions', () => {
    expect(objects.map((o) => o.kind).sort()).toEqual(Object.keys(API_VERSIONS).sort());
    for (const o of objects) expect(`${o.kind} ${o.apiVersion}`).toBe(`${o.kind} ${API_VERSIONS[o.kind]}`);
  });

  it('every manifest validates against the Kubernetes API schemas (bundled, no network)', () => {
    const errors = schemaErrors(objects);
    expect(objects.map((o, i) => ({ object: `${o.kind}/${o.metadata.name}`, errors: errors[i] }))).toEqual(
      objects.map((o) => ({ object: `${o.kind}/${o.metadata.name}`, errors: [] })),
    );
  });

  it('a broken manifest fails the schema check', () => {
    const breakages: [string, (o: K8sObject) => void][] = [
      ['Deployment', (o) => void ((o.spec as Record<string, unknown>).replicas = 'two')],
      ['Deployment', (o) => void delete (containerOf(o) as Partial<Container>).name],
      ['Deployment', (o) => void (containerOf(o).ports = 3000 as never)],
      ['Service', (o) => void (at<Record<string, unknown>>(o, 'spec', 'ports', 0).port = '80')],
      ['HorizontalPodAutoscaler', (o) => void delete (o.spec as Record<string, unknown>).scaleTargetRef],
      ['Deployment', (o) => void (podSpec(o)!.initContainers = 'migrate')],
      ['Deployment', (o) => void (initContainersOf(o)[0]!.command = 'node dist/src/interface/cli/migrate.js' as never)],
      ['ConfigMap', (o) => void ((o.data as Record<string, unknown>).PORT = 3000)],
      ['PodDisruptionBudget', (o) => void ((o as Record<string, unknown>).kind = 'PodDisruptionBudgt')],
    ];
    const broken = breakages.map(([kind, mutate]) => {
      const copy = clone(one(kind));
      mutate(copy);
      return copy;
    });
    const errors = schemaErrors(broken);
    breakages.forEach(([kind], i) => expect({ kind, failed: errors[i]!.length > 0 }).toEqual({ kind, failed: true }));
  });

  it('no manifest has a field the API does not know (strict, like kubectl\'s field validation), and a misspelt one is caught', () => {
    const typo = clone(one('Deployment'));
    const probe = at<Record<string, unknown>>(containerOf(typo), 'readinessProbe', 'httpGet');
    probe.paht = probe.path;
    delete probe.path;
    const misplaced = clone(one('Service'));
    (misplaced.spec as Record<string, unknown>).replicas = 2;
    const errors = strictFieldErrors([...objects, typo, misplaced]);
    expect(errors.slice(0, objects.length)).toEqual(objects.map(() => []));
    expect(errors[objects.length]!.join(' ')).toMatch(/'"paht"' does not exist/);
    expect(errors[objects.length + 1]!.join(' ')).toMatch(/'"replicas"' does not exist/);
  }, 60_000);

  it('selectors line up: Service, PDB and the Deployment\'s own selector match its pods; the HPA scales it', () => {
    const deployment = one('Deployment');
    const podLabels = at<Record<string, string>>(deployment, 'spec', 'template', 'metadata', 'labels');
    expect(matches(at(deployment, 'spec', 'selector', 'matchLabels'), podLabels)).toBe(true);
    expect(matches(at(one('Service'), 'spec', 'selector'), podLabels)).toBe(true);
    expect(matches(at(one('PodDisruptionBudget'), 'spec', 'selector', 'matchLabels'), podLabels)).toBe(true);
    expect(at(one('HorizontalPodAutoscaler'), 'spec', 'scaleTargetRef')).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: deployment.metadata.name });
  });

  it('replicas and disruption: the HPA owns the count (no Deployment replicas), on CPU from 2; the PDB lets a node drain without stopping the service', () => {
    const hpa = one('HorizontalPodAutoscaler');
    // A replicas field would reset an HPA-scaled Deployment on every apply (a review of stop 50).
    expect(at(one('Deployment'), 'spec', 'replicas')).toBeUndefined();
    expect(at(hpa, 'spec', 'minReplicas')).toBe(2);
    expect(at<number>(hpa, 'spec', 'maxReplicas')).toBeGreaterThan(2);
    expect(at(hpa, 'spec', 'metrics', 0, 'resource', 'name')).toBe('cpu');
    expect(at<number>(one('PodDisruptionBudget'), 'spec', 'minAvailable')).toBeLessThan(2);
  });

  it('probes point at real routes on the container\'s port; the Service targets that port; it is the configured PORT', () => {
    const deployment = one('Deployment');
    const container = containerOf(deployment);
    const getRoutes = new Set(ROUTES.filter((r) => r.method === 'GET').map((r) => r.path));
    expect(at(container, 'readinessProbe', 'httpGet', 'path')).toBe('/health/ready');
    expect(at(container, 'livenessProbe', 'httpGet', 'path')).toBe('/health/live');
    const portNames = (container.ports ?? []).map((p) => p.name);
    for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe']) {
      expect(getRoutes.has(at<string>(container, probe, 'httpGet', 'path'))).toBe(true);
      expect(portNames).toContain(at(container, probe, 'httpGet', 'port'));
    }
    expect(portNames).toContain(at(one('Service'), 'spec', 'ports', 0, 'targetPort'));
    expect(String(container.ports![0]!.containerPort)).toBe(at(one('ConfigMap'), 'data', 'PORT'));
  });

  /** Outside review, 2026-12-03: a 30-s grace period with a 5-s preStop pause left the process 25 s of its 30-s bound. */
  it("the grace period covers the preStop pause and the process's whole shutdown bound", () => {
    const deployment = one('Deployment');
    const pause = Number(at<string[]>(containerOf(deployment), 'lifecycle', 'preStop', 'exec', 'command')[1]);
    const workers = (containerOf(deployment).env ?? []).find((e) => e.name === 'WORKERS')?.value ?? at<Record<string, string>>(one('ConfigMap'), 'data')['WORKERS'];
    const bound = (workers === undefined || workers === '1' ? SHUTDOWN_LIMIT_MS : DEFAULT_CLUSTER_OPTIONS.shutdownTimeoutMs) / 1000;
    expect(pause).toBeGreaterThan(0);
    expect(at<number>(podSpec(deployment), 'terminationGracePeriodSeconds')).toBeGreaterThanOrEqual(pause + bound);
  });

  it('every variable the manifests set is one the service reads (src/config/env.ts, abuse-config.ts)', () => {
    const configMap = at<Record<string, string>>(one('ConfigMap'), 'data');
    const secret = at<Record<string, string>>(one('Secret'), 'stringData');
    const set = new Map<string, string>();
    for (const [name, value] of Object.entries({ ...configMap, ...secret })) set.set(name, value);
    for (const container of allContainers()) for (const e of container.env ?? []) set.set(e.name, e.value ?? '');
    const read = variablesTheServiceReads(Object.fromEntries(set));
    expect([...set.keys()].filter((name) => !read.has(name))).toEqual([]);
    // The check can fail: a misspelt variable is not read.
    expect(variablesTheServiceReads({ ...Object.fromEntries(set), AMQP_QUEUE_TYP: 'quorum' }).has('AMQP_QUEUE_TYP')).toBe(false);
  });

  it('the service and its migrations take the ConfigMap and the Secret; with real values in the Secret that configuration starts in production', () => {
    expect(allContainers()).toHaveLength(2);
    for (const container of allContainers()) {
      expect(container.envFrom).toEqual([
        { configMapRef: { name: one('ConfigMap').metadata.name } },
        { secretRef: { name: one('Secret').metadata.name } },
      ]);
    }
    const configMap = at<Record<string, string>>(one('ConfigMap'), 'data');
    const real = {
      DATABASE_URL: 'postgres://auth:s3cret@postgres:5432/auth', REDIS_URL: 'redis://:s3cret@redis:6379', AMQP_URL: 'amqp://auth:s3cret@rabbitmq:5672',
      SMTP_URL: 'smtp://auth:s3cret@smtp.example.com:587', ENCRYPTION_KEY: randomBytes(32).toString('hex'), METRICS_TOKEN: 'm'.repeat(32),
    };
    expect(Object.keys(real).sort()).toEqual(Object.keys(at(one('Secret'), 'stringData')).sort());
    const config = loadConfig({ ...configMap, ...real });
    expect(config).toMatchObject({ env: 'production', migrateOnStart: false, events: { queueType: 'quorum' }, databasePoolSize: 10 });
  });

  it('the Secret holds placeholders only, and a forgotten placeholder stops the service instead of running with it', () => {
    const secret = at<Record<string, string>>(one('Secret'), 'stringData');
    for (const value of Object.values(secret)) expect(value).toContain('CHANGE_ME');
    const configMap = at<Record<string, string>>(one('ConfigMap'), 'data');
    expect(() => loadConfig({ ...configMap, ...secret })).toThrow(/METRICS_TOKEN/);
    expect(() => parseEncryptionKey(secret.ENCRYPTION_KEY!)).toThrow(/ENCRYPTION_KEY must be 32 bytes/);
  });

  /**
   * Outside review, 2026-12-05: the migrations were a Job that `kubectl apply -k` ordered after the Deployment, that
   * nothing made the rollout wait for, and whose immutable pod template refused the next version's image while the
   * finished Job lived (ttlSecondsAfterFinished: 24 h): the migration never ran and new code served on the old schema.
   * Now they are the first step of every pod of the Deployment: an init container (not a sidecar: the service waits
   * for it to complete) of the same image, so a new version's pod cannot start its service before they have run.
   */
  it('the migrations run in an init container of the Deployment (the image\'s npm run migrate, same image): no Job', () => {
    expect(objects.filter((o) => o.kind === 'Job' || o.kind === 'CronJob')).toEqual([]);
    const scripts = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    const inits = initContainersOf(one('Deployment'));
    expect(inits.map((c) => c.name)).toEqual(['migrate']);
    const migrate = inits[0]!;
    expect(migrate.command).toEqual(MIGRATE_COMMAND);
    expect(scripts.migrate).toContain(migrate.command!.join(' '));
    // The migrations of the version the pod runs, run to completion before it (restartPolicy Always would make it a
    // sidecar the service does not wait for).
    expect(migrate.image).toBe(containerOf(one('Deployment')).image);
    expect(migrate.imagePullPolicy).toBe(containerOf(one('Deployment')).imagePullPolicy);
    expect(migrate.restartPolicy).toBeUndefined();
    // One connection is all the migrations use.
    expect(migrate.env).toEqual([{ name: 'DATABASE_POOL_SIZE', value: '1' }]);
  });

  it('the service runs the image\'s default command and never migrates at start', () => {
    const scripts = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    const dockerfile = readFileSync(join(ROOT, 'docker/Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/^CMD \["node", ("--[a-z-]+(=\d+)?", )*"dist\/src\/main\.js"\]$/m);
    // The image runs the service with the heap bounds, V8 settings and allocator setting `npm start` uses (README,
    // Memory; Pretenuring).
    for (const flag of ['--max-old-space-size=112', '--max-semi-space-size=2', '--no-allocation-site-pretenuring']) {
      expect(dockerfile).toContain(flag);
      expect(scripts.start).toContain(flag);
    }
    expect(dockerfile).toContain('ENV MALLOC_MMAP_THRESHOLD_=1048576 MALLOC_ARENA_MAX=2 GLIBC_TUNABLES=glibc.malloc.hugetlb=1');
    expect(scripts.start).toContain('MALLOC_ARENA_MAX=${MALLOC_ARENA_MAX:-2}');
    expect(scripts.start).toContain('GLIBC_TUNABLES=${GLIBC_TUNABLES:-glibc.malloc.hugetlb=1}');
    expect(dockerfile).toMatch(/COPY --from=build \/app\/dist \.\/dist/);
    const api = containerOf(one('Deployment'));
    expect(api.command).toBeUndefined();
    expect(at(one('ConfigMap'), 'data', 'MIGRATE_ON_START')).toBe('false');
    for (const container of allContainers()) expect((container.env ?? []).map((e) => e.name)).not.toContain('MIGRATE_ON_START');
  });

  it('pods run non-root on a read-only root filesystem with no capabilities, and have requests and limits', () => {
    const spec = podSpec(one('Deployment'))!;
    expect(at(spec, 'securityContext', 'runAsNonRoot')).toBe(true);
    expect(at<number>(spec, 'securityContext', 'runAsUser')).toBeGreaterThan(0);
    expect(at(spec, 'automountServiceAccountToken')).toBe(false);
    // Nothing may need DATA_DIR: the configuration is complete (four URLs and ENCRYPTION_KEY, checked above).
    expect(at(spec, 'volumes')).toBeUndefined();
    expect(allContainers()).toHaveLength(2);
    for (const container of allContainers()) {
      expect(at(container, 'securityContext')).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
      for (const kind of ['requests', 'limits']) {
        expect(at(container, 'resources', kind, 'cpu')).toBeDefined();
        expect(at(container, 'resources', kind, 'memory')).toBeDefined();
      }
    }
    // The 250 MB RSS budget fits under the limit, and the request is not below it by much.
    const mib = (q: string) => Number(/^(\d+)Mi$/.exec(q)![1]);
    const resources = at<Record<string, Record<string, string>>>(containerOf(one('Deployment')), 'resources');
    expect(mib(resources.limits!.memory!)).toBeGreaterThanOrEqual(Math.ceil(250e6 / 2 ** 20));
    expect(mib(resources.requests!.memory!)).toBeGreaterThanOrEqual(Math.ceil(200e6 / 2 ** 20));
  });

  it('hashes at once are the CPU limit: Node sees the node\'s cores, not the limit (outside review, 2026-12-02)', () => {
    const limit = at<string>(containerOf(one('Deployment')), 'resources', 'limits', 'cpu');
    const data = at<Record<string, string>>(one('ConfigMap'), 'data');
    expect(data['ARGON2_CONCURRENCY']).toBe(String(Number(limit)));
  });
});

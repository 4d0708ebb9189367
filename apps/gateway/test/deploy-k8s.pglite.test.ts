import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { ENTRY_POINTS } from '../scripts/build.ts';
import { GATEWAY_ENV_NAMES, loadGatewayConfig } from '../src/config/gateway-config.ts';
import { startTestGateway, type TestGateway } from './support/test-gateway.ts';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const k8sDir = join(root, 'deploy', 'k8s');

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  // biome-ignore lint/suspicious/noExplicitAny: manifests are checked by their schema below
  spec?: any;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}

/** Every manifest in a folder (and below), by file. */
function manifestsIn(dir: string): { file: string; manifest: Manifest }[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.yaml') && !file.endsWith('kustomization.yaml'))
    .flatMap((file) =>
      parseAllDocuments(readFileSync(join(dir, file), 'utf8')).map((doc) => ({
        file,
        manifest: doc.toJS() as Manifest,
      })),
    );
}

/** The kubernetes-models class of a manifest: its API group's schema. */
async function modelOf(
  apiVersion: string,
  kind: string,
): Promise<new (data: unknown) => { validate(): void }> {
  const path =
    apiVersion === 'monitoring.coreos.com/v1'
      ? `@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/${kind}`
      : `kubernetes-models/${apiVersion}/${kind}`;
  const module = (await import(path)) as Record<string, new (data: unknown) => { validate(): void }>;
  const model = module[kind];
  if (!model) throw new Error(`no model for ${apiVersion} ${kind}`);
  return model;
}

/**
 * deploy/k8s: every manifest valid against Kubernetes' schemas (kubernetes-models; no cluster
 * and no Helm here), the kustomization complete, and the Deployment's probes, ports and
 * variables checked against what the gateway really serves and reads.
 */
describe('Kubernetes manifests', () => {
  const all = manifestsIn(k8sDir);
  const byKind = (kind: string) => all.find((m) => m.manifest.kind === kind)?.manifest as Manifest;
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway('pglite');
  });
  afterAll(async () => {
    await t?.close();
  });

  it('validates every manifest against its Kubernetes schema', async () => {
    expect(all.map((m) => m.manifest.kind).sort()).toEqual(
      [
        'ConfigMap',
        'Deployment',
        'HorizontalPodAutoscaler',
        'Job',
        'PodDisruptionBudget',
        'Secret',
        'Service',
        'ServiceMonitor',
      ].sort(),
    );
    for (const { file, manifest } of all) {
      const Model = await modelOf(manifest.apiVersion, manifest.kind);
      expect(() => new Model(manifest).validate(), file).not.toThrow();
    }
    // The validator does refuse a broken manifest.
    const Deployment = await modelOf('apps/v1', 'Deployment');
    const broken = structuredClone(byKind('Deployment'));
    broken.spec.replicas = 'two';
    expect(() => new Deployment(broken).validate()).toThrow();
  });

  it('lists every manifest in kustomization.yaml (the ServiceMonitor stays optional)', () => {
    const kustomization = parseAllDocuments(
      readFileSync(join(k8sDir, 'kustomization.yaml'), 'utf8'),
    )[0]!.toJS() as {
      resources: string[];
    };
    for (const resource of kustomization.resources)
      expect(existsSync(join(k8sDir, resource)), resource).toBe(true);
    const files = new Set(all.map((m) => m.file));
    expect(new Set([...kustomization.resources, 'optional/servicemonitor.yaml'])).toEqual(files);
  });

  it('probes routes the gateway serves, on the port it listens on, with variables it reads', async () => {
    const deployment = byKind('Deployment');
    const container = deployment.spec.template.spec.containers[0];
    const port = container.ports.find((p: { name: string }) => p.name === 'http');
    const env = Object.fromEntries(
      container.env.map((e: { name: string; value: string }) => [e.name, e.value]),
    );
    expect(Number(env.PORT ?? 4000)).toBe(port.containerPort);
    expect(loadGatewayConfig({}).port).toBe(4000);
    for (const name of Object.keys(env)) expect(GATEWAY_ENV_NAMES, name).toContain(name);
    for (const probe of ['readinessProbe', 'livenessProbe', 'startupProbe']) {
      const { path, port: probePort } = container[probe].httpGet;
      expect(probePort, probe).toBe('http');
      const response = await fetch(`${t.gateway.url}${path}`);
      expect(response.status, `${probe} ${path}`).toBe(200);
    }
    // Readiness is the route that fails while the gateway drains or its database is away.
    expect(container.readinessProbe.httpGet.path).toBe('/health/readiness');
    expect(env.MIGRATE_ON_START).toBe('false');
    // Time to stop: the delay, the grace period and the final spend flush.
    expect(deployment.spec.template.spec.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(
      Number(env.SHUTDOWN_DELAY_SECONDS) + Number(env.SHUTDOWN_GRACE_SECONDS) + 5,
    );
    // The Service and the ServiceMonitor reach that port by name; the selectors match the pods.
    const podLabels = deployment.spec.template.metadata.labels;
    const service = byKind('Service');
    expect(service.spec.ports[0].targetPort).toBe('http');
    expect(podLabels).toMatchObject(service.spec.selector);
    expect(podLabels).toMatchObject(byKind('PodDisruptionBudget').spec.selector.matchLabels);
    const monitor = byKind('ServiceMonitor');
    expect(service.metadata.labels).toMatchObject(monitor.spec.selector.matchLabels);
    expect(monitor.spec.endpoints[0]).toMatchObject({ port: 'http', path: '/metrics' });
    expect(byKind('HorizontalPodAutoscaler').spec.scaleTargetRef.name).toBe(deployment.metadata.name);
  });

  it('gives the config and secrets the gateway needs, and migrates with the real script', () => {
    const deployment = byKind('Deployment');
    const container = deployment.spec.template.spec.containers[0];
    const secret = byKind('Secret');
    expect(container.envFrom[0].secretRef.name).toBe(secret.metadata.name);
    for (const name of Object.keys(secret.stringData ?? {})) expect(GATEWAY_ENV_NAMES, name).toContain(name);
    expect(Object.keys(secret.stringData ?? {})).toEqual(
      expect.arrayContaining(['LITELLM_MASTER_KEY', 'DATABASE_URL', 'REDIS_URL']),
    );
    // config.yaml from the ConfigMap loads, with the Secret's variables set.
    const configMap = byKind('ConfigMap');
    const dir = mkdtempSync(join(tmpdir(), 'k8s-config-'));
    const configFile = join(dir, 'config.yaml');
    writeFileSync(configFile, configMap.data!['config.yaml']!);
    try {
      const config = loadGatewayConfig({ ...secret.stringData, CONFIG_FILE: configFile });
      expect(config.database.kind).toBe('postgres');
      expect(config.redisUrl).toBe(secret.stringData!.REDIS_URL);
      expect(config.deployments.length).toBeGreaterThan(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const mount = container.volumeMounts.find((m: { name: string }) => m.name === 'config');
    expect(container.env.find((e: { name: string }) => e.name === 'CONFIG_FILE').value).toBe(
      `${mount.mountPath}/config.yaml`,
    );

    const job = byKind('Job');
    const migrate = job.spec.template.spec.containers[0];
    // A bundle the build makes (`pnpm build` bundles each entry point into dist/<name>.js).
    const [node, bundle] = migrate.command as string[];
    const name = /^dist\/(\w+)\.js$/.exec(bundle ?? '')?.[1] as keyof typeof ENTRY_POINTS | undefined;
    expect([node, name]).toEqual(['node', 'migrate']);
    expect(existsSync(join(root, 'apps', 'gateway', ENTRY_POINTS[name!]))).toBe(true);
    expect(migrate.envFrom[0].secretRef.name).toBe(secret.metadata.name);
    // The image's working directory is the gateway app, where the Job's relative path points.
    expect(readFileSync(join(root, 'deploy', 'Dockerfile'), 'utf8')).toMatch(
      /^WORKDIR \/app\/apps\/gateway$/m,
    );
  });
});

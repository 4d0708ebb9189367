import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { PRODUCTION_NODE_FLAGS } from '../scripts/build.ts';
import { GATEWAY_ENV_NAMES, loadGatewayConfig } from '../src/config/gateway-config.ts';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const read = (path: string) => readFileSync(join(root, path), 'utf8');

interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string };
  profiles?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
  command?: string[];
}

/**
 * docker-compose.yml and what it points at, checked without a Docker engine (there is none on
 * the CI machines): every service has a health check, every file it mounts exists, the gateway
 * reads every variable it is given, Prometheus scrapes the gateway where it listens, and Grafana
 * gets the datasource its dashboard asks for. `docker compose config` runs too where the client
 * has the compose plugin.
 */
describe('docker-compose.yml', () => {
  const compose = parse(read('docker-compose.yml')) as { services: Record<string, ComposeService> };
  const services = compose.services;

  it('runs the gateway, Postgres, Redis, Prometheus and Grafana, and the mock and traffic in the demo profile', () => {
    expect(Object.keys(services).sort()).toEqual(
      ['gateway', 'grafana', 'mock', 'postgres', 'prometheus', 'redis', 'traffic'].sort(),
    );
    expect(services.mock?.profiles).toEqual(['demo']);
    expect(services.traffic?.profiles).toEqual(['demo']);
    expect(read('.env')).toMatch(/^COMPOSE_PROFILES=demo$/m);
    for (const [name, service] of Object.entries(services))
      expect(service.healthcheck?.test.length, `${name} has a health check`).toBeGreaterThan(0);
  });

  it('gives the gateway only variables it reads, a config that loads, and health checks on its real routes', () => {
    const gateway = services.gateway!;
    const env = gateway.environment ?? {};
    for (const name of Object.keys(env)) expect(GATEWAY_ENV_NAMES, name).toContain(name);
    expect(gateway.healthcheck?.test.join(' ')).toContain('/health/readiness');
    expect(services.mock?.healthcheck?.test.join(' ')).toContain('/health');
    // CONFIG_FILE's default, under the ./deploy mount, is a config the gateway accepts.
    const mount = gateway.volumes?.find((v) => v.startsWith('./deploy:'));
    expect(mount).toBe('./deploy:/config:ro');
    const configPath = /:-([^}]+)\}/.exec(env.CONFIG_FILE ?? '')?.[1];
    expect(configPath).toBe('/config/config.demo.yaml');
    const config = loadGatewayConfig({
      CONFIG_FILE: join(root, 'deploy', 'config.demo.yaml'),
      LITELLM_MASTER_KEY: 'sk-test',
      DATABASE_URL: env.DATABASE_URL,
    });
    // Model names only the demo config has: the traffic loop reaches nothing paid elsewhere.
    expect(config.deployments.every((d) => d.modelName.startsWith('demo-'))).toBe(true);
    const traffic = (services.traffic?.command ?? []).join('\n');
    const models = [...traffic.matchAll(/model\\?"\s*:\s*\\?"([^"\\]+)/g)].map((m) => m[1]);
    expect(models).toEqual(['demo-gpt-4o-mini', 'demo-claude-sonnet']);
    for (const model of models) expect(config.deployments.map((d) => d.modelName)).toContain(model);
    expect(config.deployments.map((d) => d.apiBase)).toEqual([
      'http://mock:8090/v1',
      'http://mock:8090/v1',
      'http://mock:8090',
    ]);
    expect(services.mock?.environment?.PORT).toBe('8090');
    expect(config.metrics.endUserLabels).toBe(true);
  });

  it('mounts only files that exist, and wires Prometheus and Grafana to the gateway and dashboard', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const volume of service.volumes ?? []) {
        const [source = ''] = volume.split(':');
        if (source.startsWith('.'))
          expect(existsSync(resolve(root, source)), `${name}: ${source}`).toBe(true);
      }
    }
    const prometheus = parse(read('deploy/prometheus/prometheus.yml')) as {
      scrape_configs: { metrics_path: string; static_configs: { targets: string[] }[] }[];
    };
    const scrape = prometheus.scrape_configs[0]!;
    expect(scrape.metrics_path).toBe('/metrics');
    expect(scrape.static_configs[0]?.targets).toEqual(['gateway:4000']);
    expect(services.gateway?.ports).toContain('4000:4000');

    const datasources = parse(read('deploy/grafana/provisioning/datasources/prometheus.yml')) as {
      datasources: { uid: string; url: string }[];
    };
    expect(datasources.datasources[0]).toMatchObject({ uid: 'prometheus', url: 'http://prometheus:9090' });
    const dashboard = JSON.parse(read('deploy/grafana/dashboards/llm-gateway.json')) as {
      panels: { datasource?: { uid: string } }[];
    };
    const uids = new Set(dashboard.panels.flatMap((p) => (p.datasource ? [p.datasource.uid] : [])));
    expect([...uids]).toEqual(['prometheus']);
    const providers = parse(read('deploy/grafana/provisioning/dashboards/gateway.yml')) as {
      providers: { options: { path: string } }[];
    };
    const dashboardsMount = services.grafana?.volumes?.find((v) =>
      v.startsWith('./deploy/grafana/dashboards:'),
    );
    expect(dashboardsMount?.split(':')[1]).toBe(providers.providers[0]?.options.path);
  });

  it('builds the gateway in stages and runs it as a non-root user', () => {
    const dockerfile = read('deploy/Dockerfile');
    expect(dockerfile.match(/^FROM /gm)?.length).toBeGreaterThanOrEqual(2);
    const users = [...dockerfile.matchAll(/^USER (\S+)/gm)].map((m) => m[1]);
    expect(users.at(-1)).toBe('node');
    expect(dockerfile).toMatch(/^EXPOSE 4000$/m);
    // It serves the production build, with the node flags the build's own tests run it with.
    expect(dockerfile).toMatch(/^RUN pnpm --filter @gateway\/gateway build$/m);
    const cmd = JSON.parse(/^CMD (\[.*\])$/m.exec(dockerfile)![1]!) as string[];
    expect(cmd).toEqual(['node', ...PRODUCTION_NODE_FLAGS, 'dist/main.js']);
    const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;
    expect(scripts['start:prod']).toBe(
      ['node', ...PRODUCTION_NODE_FLAGS, 'apps/gateway/dist/main.js'].join(' '),
    );
    // Every file the image copies in exists.
    for (const [, source] of dockerfile.matchAll(/^COPY (?!--from)(\S+)/gm))
      expect(existsSync(resolve(root, source!)), source).toBe(true);
  });

  it('passes `docker compose config` where the compose plugin exists', () => {
    const probe = spawnSync('docker', ['compose', 'version'], { encoding: 'utf8' });
    if (probe.status !== 0) return; // No compose plugin here (a plain Docker client, or none).
    const result = spawnSync('docker', ['compose', 'config', '--quiet'], { cwd: root, encoding: 'utf8' });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });
});

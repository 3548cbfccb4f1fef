import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { repoRoot } from '../support/processes.ts';
import {
  composeTargets,
  prometheusDir,
  readPrometheusConfig,
  requireBinary,
} from '../support/prometheus.ts';

const run = promisify(execFile);
const composeText = readFileSync(path.join(repoRoot, 'docker-compose.yml'), 'utf8');

interface ComposeService {
  image?: string;
  command?: string[];
  environment?: Record<string, string | number>;
  volumes?: string[];
  profiles?: string[];
  healthcheck?: { disable?: boolean; test?: string[] };
  depends_on?: Record<string, { condition: string }>;
  deploy?: { replicas?: number | string; resources?: { limits?: { memory?: string } } };
}
const compose = parse(composeText, { merge: true }) as {
  services: Record<string, ComposeService>;
};
const ownImage = Object.entries(compose.services).filter(
  ([, service]) => service.image === 'cascade-lab:local',
);

/** The current compose-spec JSON schema, as the dclint package ships it. */
function composeValidator() {
  const { $schema, ...schema } = JSON.parse(
    readFileSync(path.join(repoRoot, 'node_modules/dclint/schemas/compose.schema.json'), 'utf8'),
  ) as { $schema: string };
  // It is draft-07 (named by its https address, which Ajv knows as http).
  expect($schema).toMatch(/draft-07/);
  const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false });
  return ajv.compile(schema);
}

describe('docker-compose.yml (Docker cannot run here: checked against the spec and the repository)', () => {
  it('validates against the compose-spec JSON schema, and the check can fail', () => {
    const validate = composeValidator();
    const valid = validate(compose);
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
    const broken: { services: Record<string, object> } = structuredClone(compose);
    broken.services.gateway = { ...broken.services.gateway, restart_policy: 'always' };
    expect(validate(broken)).toBe(false);
    expect(JSON.stringify(validate.errors)).toContain('restart_policy');
  });

  it('has no dclint errors', async () => {
    const { stdout } = await run(
      path.join(repoRoot, 'node_modules/.bin/dclint'),
      ['-q', '-f', 'json', 'docker-compose.yml'],
      { cwd: repoRoot },
    );
    const report = JSON.parse(stdout) as Array<{
      messages: Array<{ type: string; message: string }>;
    }>;
    expect(report.flatMap((file) => file.messages).filter((m) => m.type === 'error')).toEqual([]);
  });

  it('takes every variable it uses from .env', () => {
    const env = new Set(
      readFileSync(path.join(repoRoot, '.env'), 'utf8')
        .split('\n')
        .map((line) => /^([A-Z_][A-Z0-9_]*)=/.exec(line)?.[1])
        .filter(Boolean),
    );
    const used = [...composeText.matchAll(/\$\{(\w+)(?:[:?-][^}]*)?\}/g)].map((m) => m[1]);
    expect(used.length).toBeGreaterThan(5);
    expect(used.filter((name) => !env.has(name))).toEqual([]);
  });

  it('runs commands the image has: `serve <service>` for each service, a CLI command for load', async () => {
    const { stdout: help } = await run(
      process.execPath,
      ['--import', 'tsx', 'load/cli.ts', 'help'],
      {
        cwd: repoRoot,
      },
    );
    for (const [name, service] of ownImage) {
      const [command, arg] = service.command ?? [];
      expect(help, name).toContain(`cascade-lab ${command}`);
      if (command === 'serve') {
        expect(arg, name).toBe(name);
        expect(existsSync(path.join(repoRoot, `services/${name}/main.ts`)), name).toBe(true);
      }
    }
    // The image's entry point is the build of load/cli.ts, and every COPY source exists.
    const dockerfile = readFileSync(path.join(repoRoot, 'Dockerfile'), 'utf8');
    expect(dockerfile).toContain('ENTRYPOINT ["node", "dist/load/cli.js"]');
    const build = JSON.parse(readFileSync(path.join(repoRoot, 'tsconfig.build.json'), 'utf8')) as {
      include: string[];
    };
    expect(build.include).toEqual(expect.arrayContaining(['services', 'load']));
    for (const match of dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm))
      for (const source of match[1]!.split(' '))
        expect(existsSync(path.join(repoRoot, source)), `COPY ${source}`).toBe(true);
  });

  it('gives every service of the image a PORT its healthcheck can use, healthchecks to wait on, and a memory limit', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      expect(service.deploy?.resources?.limits?.memory, name).toMatch(/^\d+[MG]$/);
      for (const [dependency, { condition }] of Object.entries(service.depends_on ?? {})) {
        expect(condition, `${name} → ${dependency}`).toBe('service_healthy');
        const target = compose.services[dependency]!;
        const hasCheck =
          target.healthcheck?.test !== undefined ||
          (target.image === 'cascade-lab:local' && !target.healthcheck?.disable);
        expect(hasCheck, `${dependency} has a healthcheck`).toBe(true);
      }
    }
    for (const [name, service] of ownImage)
      if (name !== 'load') expect(Number(service.environment?.PORT), name).toBeGreaterThan(0);
    expect(compose.services.redis!.command).toEqual(
      expect.arrayContaining(['--appendonly', 'yes', '--maxmemory-policy', 'noeviction']),
    );
    expect(compose.services.worker!.deploy!.replicas).toBe('${WORKER_REPLICAS}');
    expect(compose.services.load!.profiles).toEqual(['load']);
  });

  it('makes every service that exports metrics a Prometheus target on the port it listens on', () => {
    const targets = composeTargets(readPrometheusConfig());
    for (const [name, service] of ownImage) {
      const job = name === 'load' ? 'loadgen' : name;
      const port =
        name === 'load' ? service.environment?.LOAD_METRICS_PORT : service.environment?.PORT;
      expect(targets[job], job).toEqual([`${name}:${port}`]);
    }
    expect(Object.keys(targets).sort()).toEqual(
      ['downstream', 'gateway', 'loadgen', 'producer', 'worker'].sort(),
    );
  });

  it('mounts the Prometheus and Grafana files that exist, with the overview as the home dashboard', () => {
    const mounts = [compose.services.prometheus!, compose.services.grafana!].flatMap(
      (service) => service.volumes ?? [],
    );
    for (const mount of mounts) {
      const [source] = mount.split(':');
      expect(existsSync(path.join(repoRoot, source!)), mount).toBe(true);
    }
    const home = compose.services.grafana!.environment!.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH;
    expect(home).toBe('/var/lib/grafana/dashboards/overview.json');
    expect(mounts).toContain('./dashboards/grafana/dashboards:/var/lib/grafana/dashboards:ro');
    expect(existsSync(path.join(repoRoot, 'dashboards/grafana/dashboards/overview.json'))).toBe(
      true,
    );
  });
});

describe('Prometheus configuration and rules (promtool from Debian’s prometheus package)', () => {
  const promtool = () => requireBinary('promtool');

  it('passes promtool check config and check rules', async () => {
    const config = await run(promtool(), ['check', 'config', 'prometheus.yml'], {
      cwd: prometheusDir,
    });
    expect(config.stdout).toContain('SUCCESS: 2 rule files found');
    const rules = await run(
      promtool(),
      ['check', 'rules', 'rules/recording.yml', 'rules/alerts.yml'],
      {
        cwd: prometheusDir,
      },
    );
    expect(rules.stdout).toMatch(
      /SUCCESS: 15 rules found[\s\S]*SUCCESS: 4 rules found|SUCCESS: 4 rules found[\s\S]*SUCCESS: 15 rules found/,
    );
  });

  it('passes its rule unit tests: each alert fires when it should and stays quiet otherwise', async () => {
    const result = await run(promtool(), ['test', 'rules', 'tests/rules.test.yml'], {
      cwd: prometheusDir,
    });
    expect(result.stdout).toContain('SUCCESS');
  });
});

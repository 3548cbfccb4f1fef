import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { upSubscribers } from '../../load/cli/up.ts';
import { repoRoot } from '../support/processes.ts';
import { composeTargets, readPrometheusConfig } from '../support/prometheus.ts';
import {
  run,
  composeText,
  compose,
  ownImage,
  isRunner,
  workerServices,
  programOf,
  composeValidator,
} from './compose-fixtures.ts';

describe('docker-compose.yml, checked against the spec and the repository (test/containers runs it)', () => {
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
        expect(arg, name).toBe(programOf(name));
        expect(existsSync(path.join(repoRoot, `services/${arg}/main.ts`)), name).toBe(true);
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
        // Grafana needs Prometheus started, not healthy: monitoring must come up regardless.
        // merge starts the generators, one-shot runners, and waits for their parts itself.
        expect(condition, `${name} → ${dependency}`).toBe(
          name === 'grafana' || name === 'merge' ? 'service_started' : 'service_healthy',
        );
        if (condition === 'service_started') continue;
        const target = compose.services[dependency]!;
        const hasCheck =
          target.healthcheck?.test !== undefined ||
          (target.image === 'cascade-lab:local' && !target.healthcheck?.disable);
        expect(hasCheck, `${dependency} has a healthcheck`).toBe(true);
      }
    }
    for (const [name, service] of ownImage)
      if (!isRunner(service)) expect(Number(service.environment?.PORT), name).toBeGreaterThan(0);
    expect(compose.services.redis!.command).toEqual(
      expect.arrayContaining(['--appendonly', 'yes', '--maxmemory-policy', 'noeviction']),
    );
    for (const [name, service] of workerServices)
      expect(service.deploy!.replicas, name).toBe('${WORKER_REPLICAS}');
    expect(compose.services.load!.profiles).toEqual(['load']);
  });

  it('makes every service that exports metrics a Prometheus target on the port it listens on', () => {
    const targets = composeTargets(readPrometheusConfig());
    // The split run's containers serve no /metrics: only the load runner's generator does.
    for (const [name, service] of ownImage.filter(
      ([, service]) => service.profiles?.[0] !== 'split',
    )) {
      const job = name === 'load' ? 'loadgen' : programOf(name);
      const port =
        name === 'load' ? service.environment?.LOAD_METRICS_PORT : service.environment?.PORT;
      // A worker group is found by the name all of them share on the network.
      const host = service.networks?.default?.aliases?.[0] ?? name;
      expect(targets[job], name).toEqual([`${host}:${port}`]);
    }
    expect(Object.keys(targets).sort()).toEqual(
      ['downstream', 'gateway', 'loadgen', 'producer', 'worker'].sort(),
    );
  });

  it('splits one run across the generator services: segment i of as many as there are, one run id, merged by merge', () => {
    const generators = Object.entries(compose.services).filter(([name]) =>
      name.startsWith('generator-'),
    );
    expect(generators.length).toBe(2);
    const flag = (command: string[] | undefined, name: string) =>
      command?.[command.indexOf(name) + 1];
    for (const [name, service] of generators) {
      expect(service.profiles, name).toEqual(['split']);
      expect(service.command?.[0], name).toBe('experiment');
      expect(flag(service.command, '--segment'), name).toBe(
        `${name.slice('generator-'.length)}/${generators.length}`,
      );
      expect(flag(service.command, '--run-id'), name).toBe('${SPLIT_RUN_ID}');
      expect(flag(service.command, '--results-redis'), name).toBe('redis://redis:6379');
    }
    const merge = compose.services.merge!;
    expect(merge.command?.[0]).toBe('merge');
    expect(flag(merge.command, '--run-id')).toBe('${SPLIT_RUN_ID}');
    expect(Object.keys(merge.depends_on ?? {}).sort()).toEqual(generators.map(([name]) => name));
  });

  it('runs the topic `cascade-lab up` runs: a worker group per subscriber the producer publishes to, all named `worker`', () => {
    const published = String(compose.services.producer!.environment!.SUBSCRIBERS).split(',');
    expect(published).toEqual(upSubscribers);
    expect(workerServices.map(([name]) => name)).toEqual(published.map((s) => `worker-${s}`));
    for (const [name, service] of workerServices) {
      expect(service.environment!.SUBSCRIBER, name).toBe(name.slice('worker-'.length));
      expect(service.environment!.QUEUE_NAME, name).toBe(
        compose.services.producer!.environment!.QUEUE_NAME,
      );
      expect(service.networks?.default?.aliases, name).toEqual(['worker']);
    }
    // The load runner finds them all by that name, and waits for each group.
    expect(compose.services.load!.environment!.CASCADE_URLS).toContain('worker=http://worker:8083');
    expect(Object.keys(compose.services.load!.depends_on!)).toEqual(
      expect.arrayContaining(workerServices.map(([name]) => name)),
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
    expect(mounts).toContain('./dashboards/grafana/dashboards:/var/lib/grafana/dashboards:ro,z');
    expect(existsSync(path.join(repoRoot, 'dashboards/grafana/dashboards/overview.json'))).toBe(
      true,
    );
  });
});

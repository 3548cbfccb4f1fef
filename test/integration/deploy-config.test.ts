import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { upSubscribers } from '../../load/cli/up.ts';
import { repoRoot } from '../support/processes.ts';
import { startDownstream } from '../support/rpc-path.ts';
import {
  composeTargets,
  prometheusDir,
  readPrometheusConfig,
  requireBinary,
} from '../support/prometheus.ts';

const run = promisify(execFile);
const read = (file: string) => readFileSync(path.join(repoRoot, file), 'utf8');
const composeText = read('docker-compose.yml');

interface ComposeService {
  image?: string;
  command?: string[];
  environment?: Record<string, string | number>;
  volumes?: string[];
  profiles?: string[];
  healthcheck?: { disable?: boolean; test?: string[] };
  depends_on?: Record<string, { condition: string }>;
  networks?: Record<string, { aliases?: string[] }>;
  deploy?: { replicas?: number | string; resources?: { limits?: { memory?: string } } };
}
const compose = parse(composeText, { merge: true }) as {
  services: Record<string, ComposeService>;
};
const ownImage = Object.entries(compose.services).filter(
  ([, service]) => service.image === 'cascade-lab:local',
);
/** One-shot runners (`docker compose run`, profiles only): the load runner, the split run's generators and merge. */
const isRunner = (service: ComposeService) => service.profiles !== undefined;
/** The topic's worker groups, `worker-<subscriber>`: each is what `serve worker` runs. */
const workerServices = ownImage.filter(([name]) => name.startsWith('worker-'));
/** A compose service's program: `worker-billing` runs the worker. */
const programOf = (name: string) => (name.startsWith('worker-') ? 'worker' : name);
/** The services that run one program. */
const servicesOf = (program: string) =>
  program === 'worker'
    ? workerServices.map(([, service]) => service)
    : [compose.services[program]!];

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

describe('the compose stack survives its own experiments', () => {
  const mib = (size: string) => Number(size.slice(0, -1)) * (size.endsWith('G') ? 1024 : 1);
  /** docs/observability.md's memory table: container → limit, heap limit, measured peak. */
  const documented = new Map(
    [
      ...readFileSync(path.join(repoRoot, 'docs/observability.md'), 'utf8').matchAll(
        /^\s*\| (\w+)\s+\| (\d+) MiB \| (\d+ MB|—)\s+\| (?:`maxmemory` )?(\d+) (?:MiB|MB)/gm,
      ),
    ].map(([, name, limit, heap, peak]) => [
      name!,
      {
        limit: Number(limit),
        heap: heap === '—' ? null : Number.parseInt(heap!),
        peak: Number(peak),
      },
    ]),
  );

  it('gives each container the memory limit and heap limit the docs state, with room over the measured peak', () => {
    expect([...documented.keys()].sort()).toEqual(
      ['downstream', 'gateway', 'producer', 'redis', 'worker'].sort(),
    );
    for (const [name, doc] of documented)
      for (const service of servicesOf(name)) {
        const limit = mib(service.deploy!.resources!.limits!.memory!);
        expect(limit, name).toBe(doc.limit);
        expect(limit, `${name}: room over its peak`).toBeGreaterThanOrEqual(1.5 * doc.peak);
        if (doc.heap === null) continue;
        expect(service.environment?.NODE_OPTIONS, name).toBe(`--max-old-space-size=${doc.heap}`);
        // Buffers, code and stacks live outside the V8 heap: leave them a quarter of the limit.
        expect(doc.heap, `${name}: heap under the limit`).toBeLessThanOrEqual(0.75 * limit);
      }
  });

  it('keeps every acknowledged job on disk, with room for an AOF rewrite beside maxmemory', () => {
    const command = compose.services.redis!.command!;
    const flag = (name: string) => command[command.indexOf(name) + 1];
    expect(flag('--appendfsync')).toBe('always');
    const maxmemory = Number.parseInt(flag('--maxmemory')!);
    expect(mib(compose.services.redis!.deploy!.resources!.limits!.memory!)).toBeGreaterThanOrEqual(
      2.5 * maxmemory,
    );
  });

  it('lets each service finish its own close before it is killed', () => {
    const graceS = (text: string | undefined) => Number(/^(\d+)s$/.exec(text ?? '')?.[1]);
    const defaultCloseMs = Number(
      /graceMs = ([\d_]+)/.exec(read('services/shared/run-service.ts'))![1]!.replaceAll('_', ''),
    );
    for (const name of ['downstream', 'gateway', 'producer', 'worker']) {
      const own = /graceMs: ([\d_]+)/.exec(read(`services/${name}/main.ts`))?.[1];
      const closeMs = own ? Number(own.replaceAll('_', '')) : defaultCloseMs;
      for (const service of servicesOf(name)) {
        const stop = (service as { stop_grace_period?: string }).stop_grace_period;
        expect(graceS(stop) * 1000, `${name} closes within ${closeMs} ms`).toBeGreaterThan(closeMs);
      }
    }
  });

  it('starts monitoring whatever the apps do, and mounts host paths with :z for SELinux', () => {
    expect(compose.services.prometheus!.depends_on).toBeUndefined();
    expect(Object.keys(compose.services.grafana!.depends_on ?? {})).toEqual(['prometheus']);
    const bindMounts = Object.values(compose.services).flatMap((service) =>
      (service.volumes ?? []).filter((volume) => volume.startsWith('.')),
    );
    expect(bindMounts.length).toBeGreaterThanOrEqual(5);
    for (const mount of bindMounts) expect(mount, mount).toMatch(/:(ro,)?z$/);
  });

  it('asks the dashboards for $__rate_interval, never a fixed rate window', () => {
    for (const file of ['overview', 'rpc', 'events']) {
      const text = read(`dashboards/grafana/dashboards/${file}.json`);
      expect(text, file).not.toMatch(/(rate|increase)\([^)]*\[\d+[smh]\]/);
      expect(text, file).toContain('[$__rate_interval]');
    }
  });

  it('builds on a Node LTS still maintained today, while the package accepts Node 20.18', () => {
    // Release dates from the Node.js release schedule (github.com/nodejs/Release).
    const endOfLife: Record<string, string> = {
      '22': '2027-04-30',
      '24': '2028-04-30',
      '26': '2029-04-30',
    };
    const version = /^ARG NODE_VERSION=(\d+)/m.exec(read('Dockerfile'))?.[1];
    expect(version && endOfLife[version], `NODE_VERSION=${version} is an LTS we know`).toBeTruthy();
    expect(new Date(endOfLife[version!]!).getTime()).toBeGreaterThan(Date.now());
    expect(read('.env')).toMatch(new RegExp(`^NODE_VERSION=${version}$`, 'm'));
    const pkg = JSON.parse(read('package.json')) as {
      engines: { node: string };
      dependencies: Record<string, string>;
      optionalDependencies: Record<string, string>;
    };
    expect(pkg.engines.node).toBe('>=20.18');
    // testcontainers is for a local stack without Redis: optional, and left out of the image.
    expect(Object.keys(pkg.dependencies).filter((name) => name.includes('testcontainers'))).toEqual(
      [],
    );
    expect(Object.keys(pkg.optionalDependencies)).toContain('@testcontainers/redis');
    expect(read('Dockerfile')).toContain('npm prune --omit=dev --omit=optional');
  });

  it('has a HEALTHCHECK that passes against a live service and fails against a closed port', async () => {
    const command = JSON.parse(
      /^\s*CMD (\[.*\])$/m.exec(read('Dockerfile').split('HEALTHCHECK')[1]!)![1]!,
    ) as string[];
    expect(command[0]).toBe('bash');
    const downstream = await startDownstream();
    try {
      const port = new URL(downstream.url).port;
      const env = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
      await run(command[0]!, command.slice(1), { env: { ...env, PORT: port } });
      const closed = await run(command[0]!, command.slice(1), { env: { ...env, PORT: '9' } }).then(
        () => 0,
        (error: { code: number }) => error.code,
      );
      expect(closed).not.toBe(0);
    } finally {
      await downstream.app.close();
    }
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
      /SUCCESS: 18 rules found[\s\S]*SUCCESS: 4 rules found|SUCCESS: 4 rules found[\s\S]*SUCCESS: 18 rules found/,
    );
  });

  it('passes its rule unit tests: each alert fires when it should and stays quiet otherwise', async () => {
    const result = await run(promtool(), ['test', 'rules', 'tests/rules.test.yml'], {
      cwd: prometheusDir,
    });
    expect(result.stdout).toContain('SUCCESS');
  });
});

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../support/processes.ts';
import { startDownstream } from '../support/rpc-path.ts';
import { run, read, compose, servicesOf } from './compose-fixtures.ts';

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

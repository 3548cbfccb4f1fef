import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DownstreamEnv } from '../../services/downstream/config.ts';
import { GatewayEnv } from '../../services/gateway/config.ts';
import { ProducerEnv } from '../../services/producer/config.ts';
import type { ProvidedRedis } from '../../load/stack/redis-provider.ts';
import { WorkerEnv } from '../../services/worker/config.ts';
import { startProducer, startWorker } from '../support/event-path.ts';
import { testRedis, uniqueQueueName } from '../support/redis.ts';
import { gatewayErrorKinds } from '../../services/gateway/errors.ts';
import { createLoadMetrics } from '../../load/generator/metrics.ts';
import { columns } from '../../load/report/columns.ts';
import { repoRoot } from '../support/processes.ts';
import { type Running, startDownstream, startGateway } from '../support/rpc-path.ts';

const read = (file: string) => readFileSync(path.join(repoRoot, file), 'utf8');
const reference = read('docs/reference.md');

/** The first backticked cell of each row in the reference's table under `heading`. */
function firstColumn(heading: string): Set<string> {
  const start = reference.indexOf(`\n## ${heading}\n`);
  expect(start, `docs/reference.md has a "## ${heading}" section`).toBeGreaterThanOrEqual(0);
  const end = reference.indexOf('\n## ', start + 1);
  const section = reference.slice(start, end === -1 ? undefined : end);
  return new Set(
    [...section.matchAll(/^\|\s*`([A-Za-z_]+)`\s*\|/gm)].map((match) => match[1] as string),
  );
}

const metricNames = (text: string) =>
  [...text.matchAll(/^# TYPE (\S+) /gm)]
    .map((match) => match[1] as string)
    .filter((name) => !name.startsWith('process_') && !name.startsWith('nodejs_'));

async function exportedMetricNames(url: string): Promise<string[]> {
  return metricNames(await (await request(`${url}/metrics`)).body.text());
}

let redis: ProvidedRedis;
let services: Running[] = [];
beforeAll(async () => {
  redis = await testRedis();
  const downstream = await startDownstream();
  const queueName = uniqueQueueName('readme');
  services = [
    downstream,
    await startGateway(downstream.url),
    await startProducer(redis.url, queueName),
    await startWorker(redis.url, queueName, downstream.url),
  ];
});
afterAll(async () => {
  for (const service of services.reverse()) await service.app.close();
  await redis.stop();
});

describe('the reference (docs/reference.md)', () => {
  it('lists exactly the metrics the services and the load generator export', async () => {
    const exported = [
      ...(await Promise.all(services.map((service) => exportedMetricNames(service.url)))).flat(),
      ...metricNames(await createLoadMetrics().registry.metrics()),
    ];
    expect([...firstColumn('Metrics')].sort()).toEqual(exported.sort());
  });

  it('documents exactly the environment variables the services read', () => {
    const read = new Set(
      [DownstreamEnv, GatewayEnv, ProducerEnv, WorkerEnv].flatMap((schema) =>
        Object.keys(schema.properties),
      ),
    );
    expect([...firstColumn('Configuration')].sort()).toEqual([...read].sort());
  });

  it('documents every error code the gateway answers with', () => {
    for (const [kind, info] of Object.entries(gatewayErrorKinds)) {
      const row = new RegExp(
        `^\\|\\s*\`${kind}\`\\s*\\|\\s*\`${info.code}\`\\s*\\|\\s*${info.statusCode}\\s*\\|`,
        'm',
      );
      expect(reference).toMatch(row);
    }
  });

  it('documents every error code a service answers with', () => {
    const sources = readdirSync(path.join(repoRoot, 'services'), {
      recursive: true,
      encoding: 'utf8',
    })
      .filter((file) => file.endsWith('.ts'))
      .map((file) => read(path.join('services', file)));
    const codes = new Set([
      ...sources.flatMap((text) => [...text.matchAll(/error: '([a-z_]+)'/g)].map((m) => m[1]!)),
      // The shared error handler names the codes of bad input in one function.
      ...[...read('services/shared/http-app.ts').matchAll(/return '([a-z_]+)'/g)].map((m) => m[1]!),
    ]);
    expect(codes.size).toBeGreaterThan(8);
    for (const code of codes) expect(reference, `error code ${code}`).toContain(`\`${code}\``);
  });
});

describe('the docs', () => {
  const pages = [
    'README.md',
    'CONTRIBUTING.md',
    ...readdirSync(path.join(repoRoot, 'docs'))
      .filter((f) => f.endsWith('.md'))
      .map((f) => `docs/${f}`),
  ];

  it('link only to files that exist', () => {
    for (const page of pages) {
      for (const [, target] of read(page).matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)) {
        if (/^[a-z]+:/.test(target!)) continue;
        const file = path.join(repoRoot, path.dirname(page), target!);
        expect(existsSync(file), `${page} links to ${target}`).toBe(true);
      }
    }
  });

  it('link to headings that exist', () => {
    /** GitHub's anchor for a heading: lower case, punctuation gone, spaces as hyphens. */
    const slug = (heading: string) =>
      heading
        .toLowerCase()
        .replace(/[^\p{L}\p{N} _-]/gu, '')
        .replace(/ /g, '-');
    const anchorsOf = (file: string) =>
      new Set([...read(file).matchAll(/^#+ (.+)$/gm)].map((match) => slug(match[1]!)));
    for (const page of pages)
      for (const [, target, anchor] of read(page).matchAll(/\]\(([^)#\s]*\.md)#([^)]+)\)/g)) {
        const file = path.relative(repoRoot, path.join(repoRoot, path.dirname(page), target!));
        expect(anchorsOf(file), `${page} links to ${target}#${anchor}`).toContain(anchor);
      }
  });

  it('name in CONTRIBUTING’s layout every source file of services/ and load/, and only files that exist', () => {
    const contributing = read('CONTRIBUTING.md');
    const layout = contributing.slice(contributing.indexOf('## Layout'));
    const block = layout.slice(
      layout.indexOf('```'),
      layout.indexOf('```', layout.indexOf('```') + 3),
    );
    const sources = (dir: string): string[] =>
      readdirSync(path.join(repoRoot, dir), { withFileTypes: true }).flatMap((entry) =>
        entry.isDirectory()
          ? sources(`${dir}/${entry.name}`)
          : entry.name.endsWith('.ts')
            ? [`${dir}/${entry.name}`]
            : [],
      );
    const named = (file: string) => {
      const base = path.basename(file, '.ts');
      return new RegExp(`(?<![\\w-])${base}(\\.ts|[,}])`).test(block) || block.includes(file);
    };
    const files = [...sources('services'), ...sources('load')];
    expect(files.length).toBeGreaterThan(100);
    expect(files.filter((file) => !named(file))).toEqual([]);
    for (const [, name] of block.matchAll(/([a-z][a-z0-9-]*)\.ts\b/g))
      expect(
        files.some((file) => path.basename(file) === `${name}.ts`) ||
          existsSync(path.join(repoRoot, 'scripts', `${name}.ts`)) ||
          existsSync(path.join(repoRoot, 'dashboards', `${name}.ts`)) ||
          existsSync(path.join(repoRoot, 'dashboards/grafana', `${name}.ts`)) ||
          existsSync(path.join(repoRoot, 'bench', `${name}.ts`)) ||
          existsSync(path.join(repoRoot, 'test/support', `${name}.ts`)),
        `CONTRIBUTING names ${name}.ts`,
      ).toBe(true);
  });

  it('show in the README a table with exactly the columns the CLI prints', () => {
    const sample = read('README.md')
      .split('\n')
      .find((line) => line.startsWith('run  '));
    expect(sample, 'the README shows a table').toBeDefined();
    expect(sample!.trim().split(/ {2,}/)).toEqual(columns.map(({ title }) => title));
  });

  it('keep the README a front door: at most 300 lines, with a page per topic under docs/', () => {
    expect(read('README.md').split('\n').length).toBeLessThanOrEqual(300);
    for (const topic of [
      'resilience',
      'event-path',
      'experiments',
      'observability',
      'performance',
      'reference',
    ])
      expect(pages).toContain(`docs/${topic}.md`);
  });
});

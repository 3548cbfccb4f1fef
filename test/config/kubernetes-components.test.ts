import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { dashboards } from '../../dashboards/grafana/generate.ts';
import { kubePrometheusDatasourceUid, kubernetesFiles } from '../../dashboards/kubernetes.ts';
import { parseScenario } from '../../load/scenario/scenario.ts';
import { distributedFlags } from '../../load/cli/distributed-flags.ts';
import { segmentProblems } from '../../load/cli/split-flags.ts';
import { parseUrls } from '../../load/experiment/target.ts';
import { subscriberQueue } from '../../services/shared/topic.ts';
import { repoRoot } from '../support/processes.ts';
import { testRedis } from '../support/redis.ts';
import {
  type PodTemplate,
  objectsOf,
  envOf,
  expandedEnv,
  renderKustomizations,
  rendered,
} from './kubernetes-fixtures.ts';

beforeAll(renderKustomizations, 60_000);

describe('deploy/k8s (no cluster here: rendered with kubectl kustomize, checked against the schemas and the repository)', () => {
  it('scales each worker group on its own queue: the KEDA trigger names the list BullMQ fills, at the Redis the workers use', async () => {
    const redis = await testRedis();
    try {
      for (const overlayName of ['overlays/autoscaled', 'overlays/redis-cluster-autoscaled']) {
        const overlay = objectsOf(overlayName);
        const scaled = overlay.filter((o) => o.kind === 'ScaledObject');
        const workers = overlay.filter(
          (o) => o.kind === 'Deployment' && o.metadata.name.startsWith('worker-'),
        );
        expect(scaled).toHaveLength(workers.length);
        for (const object of scaled) {
          const target = (object.spec!.scaleTargetRef as { name: string }).name;
          const worker = workers.find((w) => w.metadata.name === target);
          expect(worker, `${object.metadata.name} scales a worker Deployment`).toBeDefined();
          const container = worker!.spec!.template!.spec.containers[0]!;
          const env = expandedEnv(container);
          const [trigger] = object.spec!.triggers as Array<{
            type: string;
            metadata: Record<string, string>;
          }>;
          if (env.REDIS_CLUSTER_NODES) {
            // The cluster's trigger, at the nodes the worker uses, with its password.
            expect(trigger!.type).toBe('redis-cluster');
            expect(env.REDIS_CLUSTER_NODES).toBe(`redis://:secret@${trigger!.metadata.addresses}`);
            expect(envOf(container)).toHaveProperty(trigger!.metadata.passwordFromEnv!);
          } else {
            expect(trigger!.type).toBe('redis');
            expect(`redis://${trigger!.metadata.address}`).toBe(env.REDIS_URL);
          }
          const prefix = env.QUEUE_PREFIX!;
          const queue = subscriberQueue(env.QUEUE_NAME!, env.SUBSCRIBER);
          expect(trigger!.metadata.listName).toBe(`${prefix}:${queue}:wait`);
          // And that is the list a waiting job is in, on a real Redis (under a test prefix).
          const testPrefix = prefix.replace('cascade', `k8s-test-${process.pid}`);
          const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
          const bull = new Queue(queue, { connection, prefix: testPrefix });
          try {
            await bull.add('event', { id: 'x' });
            expect(
              await connection.llen(trigger!.metadata.listName!.replace(prefix, testPrefix)),
            ).toBe(1);
          } finally {
            await bull.obliterate({ force: true });
            await bull.close();
            connection.disconnect();
          }
        }
      }
    } finally {
      await redis.stop();
    }
  });

  it("runs on a Redis Cluster you already run: no built-in Redis, the producer and workers at the cluster with a hash-tagged prefix and the chart's password", () => {
    for (const overlayName of ['overlays/redis-cluster', 'overlays/redis-cluster-autoscaled']) {
      const overlay = objectsOf(overlayName);
      expect(overlay.filter((o) => o.metadata.name === 'redis')).toEqual([]);
      const queued = overlay.filter(
        (o) =>
          o.kind === 'Deployment' &&
          (o.metadata.name === 'producer' || o.metadata.name.startsWith('worker-')),
      );
      expect(queued).toHaveLength(4);
      for (const object of queued) {
        const container = object.spec!.template!.spec.containers[0]!;
        const env = envOf(container);
        expect(env, object.metadata.name).not.toHaveProperty('REDIS_URL');
        expect(env.QUEUE_PREFIX).toBe('{cascade}');
        const names = container.env!.map((entry) => entry.name);
        // Kubernetes expands $(NAME) only from a variable listed before it.
        expect(names.indexOf('REDIS_CLUSTER_PASSWORD')).toBeLessThan(
          names.indexOf('REDIS_CLUSTER_NODES'),
        );
        expect(
          container.env!.find((entry) => entry.name === 'REDIS_CLUSTER_PASSWORD')!.valueFrom,
        ).toEqual({ secretKeyRef: { name: 'redis-cluster', key: 'redis-password' } });
      }
      // Nothing else still points at the built-in Redis.
      expect(JSON.stringify(overlay)).not.toMatch(/redis:6379|redis:\/\/redis:/);
    }
  });

  it("ships the dashboards for kube-prometheus-stack's sidecar and the rules they read, as generated from dashboards/", () => {
    // The committed copies are what `npm run dashboards` makes of the sources.
    for (const [file, expected] of Object.entries(kubernetesFiles())) {
      const text = readFileSync(path.join(repoRoot, file), 'utf8');
      expect(file.endsWith('.json') ? JSON.parse(text) : parse(text), file).toEqual(expected);
    }
    const overlay = objectsOf('overlays/autoscaled');
    const maps = overlay.filter((o) => o.metadata.labels?.grafana_dashboard === '1');
    expect(
      maps
        .map((map) => Object.keys(map.data!))
        .flat()
        .sort(),
    ).toEqual(Object.keys(dashboards).sort());
    for (const map of maps) {
      expect(map.metadata.annotations?.grafana_folder).toBe('cascade-lab');
      const [file, text] = Object.entries(map.data!)[0]!;
      const board = JSON.parse(text) as { uid: string };
      expect(board.uid).toBe(dashboards[file]!.uid);
      // Every query reads kube-prometheus-stack's datasource, not compose's.
      const uids = [
        ...text.matchAll(/"datasource": \{\s*"type": "prometheus",\s*"uid": "([^"]+)"/g),
      ];
      expect(uids.length, file).toBeGreaterThan(0);
      expect(new Set(uids.map((match) => match[1]))).toEqual(
        new Set([kubePrometheusDatasourceUid]),
      );
    }
    // The rules the dashboards query are recorded by the PrometheusRule.
    const rule = overlay.find((o) => o.kind === 'PrometheusRule')!;
    const recorded = new Set(
      (rule.spec!.groups as Array<{ rules: Array<{ record?: string }> }>)
        .flatMap((group) => group.rules)
        .map((entry) => entry.record)
        .filter(Boolean),
    );
    const used = new Set(
      maps.flatMap((map) =>
        [...Object.values(map.data!)[0]!.matchAll(/\b([a-z]+:[a-z_0-9]+:[a-z_0-9]+)\b/g)].map(
          (m) => m[1]!,
        ),
      ),
    );
    expect(used.size).toBeGreaterThan(0);
    for (const name of used) expect(recorded, name).toContain(name);
    expect(rule.metadata.labels).toEqual(
      overlay.find((o) => o.kind === 'ServiceMonitor')!.metadata.labels,
    );
  });

  it('scales the gateway on a CPU it requests, and has Prometheus scrape every service but Redis', () => {
    const overlay = objectsOf('overlays/autoscaled');
    const hpa = overlay.find((o) => o.kind === 'HorizontalPodAutoscaler')!;
    const gateway = overlay.find(
      (o) =>
        o.kind === 'Deployment' &&
        o.metadata.name === (hpa.spec!.scaleTargetRef as { name: string }).name,
    )!;
    expect(gateway.spec!.template!.spec.containers[0]!.resources!.requests!.cpu).toBeDefined();
    const monitor = overlay.find((o) => o.kind === 'ServiceMonitor')!;
    const names = (monitor.spec!.selector as { matchExpressions: Array<{ values: string[] }> })
      .matchExpressions[0]!.values;
    const services = overlay.filter((o) => o.kind === 'Service');
    expect(
      services.filter((s) => s.metadata.labels?.['app.kubernetes.io/part-of'] === 'cascade-lab')
        .length,
    ).toBe(services.length);
    expect(
      services
        .map((s) => s.metadata.name)
        .filter((name) => names.includes(name))
        .sort(),
    ).toEqual(['downstream', 'gateway', 'producer', 'worker']);
    const prometheus = readFileSync(
      path.join(repoRoot, 'dashboards/prometheus/prometheus.yml'),
      'utf8',
    );
    for (const name of names) expect(prometheus).toContain(`job_name: ${name}`);
  });

  it('runs an experiment as a Job on a scenario of its ConfigMap, against the services by name', () => {
    const job = objectsOf('jobs/experiment');
    const pod = job.find((o) => o.kind === 'Job')!.spec!.template!;
    const container = pod.spec.containers[0]!;
    expect(container.args?.slice(0, 2)).toEqual(['experiment', 'scenarios/custom/smoke.yaml']);
    const configMap = job.find((o) => o.kind === 'ConfigMap')!;
    const mounted = pod.spec.volumes!.find((v) => v.configMap)!;
    expect(mounted.configMap!.name).toBe(configMap.metadata.name);
    expect(container.volumeMounts!.find((m) => m.name === mounted.name)!.mountPath).toBe(
      '/app/scenarios/custom',
    );
    expect(parseScenario(configMap.data!['smoke.yaml']!).name).toBe('smoke');
    const base = objectsOf('base');
    for (const part of envOf(container).CASCADE_URLS!.split(',')) {
      const [, host, port] = /^\w+=http:\/\/([a-z-]+):(\d+)$/.exec(part)!;
      const service = base.find((o) => o.kind === 'Service' && o.metadata.name === host);
      expect((service!.spec!.ports as Array<{ port: number }>)[0]!.port).toBe(Number(port));
    }
  });

  it('runs one scenario run from an Indexed Job, pod i sending segment i/n, and merges it in a Job that reads the same Redis and run id', () => {
    const objects = objectsOf('jobs/distributed-load');
    const job = (name: string) =>
      objects.find((o) => o.kind === 'Job' && o.metadata.name === name)! as unknown as {
        spec: {
          completionMode?: string;
          completions?: number;
          parallelism?: number;
          template: PodTemplate;
        };
      };
    const load = job('cascade-lab-load');
    const merge = job('cascade-lab-merge');
    expect(load.spec.completionMode).toBe('Indexed');
    const [generator] = load.spec.template.spec.containers;
    const args = generator!.args!;
    const flag = (list: string[], name: string) => list[list.indexOf(name) + 1]!;
    // The segment's n is the Job's completions and parallelism; its i, the pod's index.
    const [, index, count] = /^\$\((\w+)\)\/(\d+)$/.exec(flag(args, '--segment'))!;
    expect(load.spec.completions).toBe(Number(count));
    expect(load.spec.parallelism).toBe(Number(count));
    const indexVar = (generator!.env ?? []).find((variable) => variable.name === index)!;
    expect(indexVar.valueFrom).toEqual({
      fieldRef: { fieldPath: "metadata.annotations['batch.kubernetes.io/job-completion-index']" },
    });
    // Both read the run id from the one ConfigMap, and the stack's Redis by its Service.
    const [merger] = merge.spec.template.spec.containers;
    const configMap = objects.find((o) => o.kind === 'ConfigMap' && o.data?.RUN_ID)!;
    for (const container of [generator!, merger!]) {
      const runId = (container.env ?? []).find((variable) => variable.name === 'RUN_ID')!;
      expect(runId.valueFrom).toEqual({
        configMapKeyRef: { name: configMap.metadata.name, key: 'RUN_ID' },
      });
      expect(flag(container.args!, '--run-id')).toBe('$(RUN_ID)');
      const redis = new URL(flag(container.args!, '--results-redis'));
      const service = objectsOf('base').find(
        (o) => o.kind === 'Service' && o.metadata.name === redis.hostname,
      );
      expect((service!.spec!.ports as Array<{ port: number }>)[0]!.port).toBe(Number(redis.port));
    }
    expect(merger!.args![0]).toBe('merge');
    // The generators run the scenario of their ConfigMap, and the CLI's own checks pass on
    // their flags (pod 0's, with the stack's URLs).
    expect(args.slice(0, 2)).toEqual(['experiment', 'scenarios/split/split.yaml']);
    const mounted = load.spec.template.spec.volumes!.find((v) => v.configMap)!;
    const scenarios = objects.find(
      (o) => o.kind === 'ConfigMap' && o.metadata.name === mounted.configMap!.name,
    )!;
    expect(generator!.volumeMounts!.find((m) => m.name === mounted.name)!.mountPath).toBe(
      '/app/scenarios/split',
    );
    const scenario = parseScenario(scenarios.data!['split.yaml']!);
    const concrete = args.map((arg) =>
      arg.replace('$(SEGMENT_INDEX)', '0').replace('$(RUN_ID)', 'split-1'),
    );
    const problems: string[] = [];
    const urls = parseUrls(envOf(generator!).CASCADE_URLS!).urls;
    const checked = segmentProblems(scenario, {}, {}, urls, 1);
    problems.push(...checked.problems);
    distributedFlags(
      {
        segment: flag(concrete, '--segment'),
        resultsRedis: flag(concrete, '--results-redis'),
        runId: flag(concrete, '--run-id'),
        startDelay: flag(concrete, '--start-delay'),
      },
      '--out DIR',
      problems,
    );
    expect(problems).toEqual([]);
    expect(checked.run!.name).toBe('rpc-safe');
    // The same claim as the experiment Job's, so either kustomization may create it.
    expect(objects.find((o) => o.kind === 'PersistentVolumeClaim')).toEqual(
      objectsOf('jobs/experiment').find((o) => o.kind === 'PersistentVolumeClaim'),
    );
  });
});

afterAll(() => rendered.clear());

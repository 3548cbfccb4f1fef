import { execFile, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1';
import {
  PrometheusRule,
  ServiceMonitor,
} from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { Deployment, StatefulSet } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { Job } from 'kubernetes-models/batch/v1';
import { ConfigMap, PersistentVolumeClaim, Service } from 'kubernetes-models/v1';
import type { TObject } from 'typebox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { dashboards } from '../../dashboards/grafana/generate.ts';
import { kubePrometheusDatasourceUid, kubernetesFiles } from '../../dashboards/kubernetes.ts';
import { CliEnv } from '../../load/cli/env.ts';
import { parseScenario } from '../../load/scenario/scenario.ts';
import { distributedFlags } from '../../load/cli/distributed-flags.ts';
import { segmentProblems } from '../../load/cli/split-flags.ts';
import { parseUrls } from '../../load/experiment/target.ts';
import { DownstreamEnv } from '../../services/downstream/config.ts';
import { loadConfig } from '../../services/shared/config.ts';
import { GatewayEnv } from '../../services/gateway/config.ts';
import { ProducerEnv } from '../../services/producer/config.ts';
import { queueLocationProblems } from '../../services/shared/queue-env.ts';
import { subscriberQueue } from '../../services/shared/topic.ts';
import { WorkerEnv } from '../../services/worker/config.ts';
import { repoRoot } from '../support/processes.ts';
import { testRedis } from '../support/redis.ts';

const run = promisify(execFile);
const k8s = path.join(repoRoot, 'deploy/k8s');

/** Every kustomization a user applies: the base, each overlay, the experiment Job, the distributed load. */
const kustomizations = [
  'base',
  'overlays/autoscaled',
  'overlays/redis-cluster',
  'overlays/redis-cluster-autoscaled',
  'jobs/experiment',
  'jobs/distributed-load',
];

interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: Array<{ name: string; value?: string; valueFrom?: unknown }>;
  ports?: Array<{ name?: string; containerPort: number }>;
  readinessProbe?: { httpGet?: { path: string; port: string | number } };
  livenessProbe?: { httpGet?: { path: string; port: string | number } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  volumeMounts?: Array<{ name: string; mountPath: string }>;
}
interface PodTemplate {
  metadata: { labels: Record<string, string> };
  spec: {
    containers: Container[];
    securityContext?: { runAsNonRoot?: boolean };
    terminationGracePeriodSeconds?: number;
    volumes?: Array<{ name: string; configMap?: { name: string } }>;
  };
}
interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec?: Record<string, unknown> & { template?: PodTemplate };
  data?: Record<string, string>;
}

/** The typed model of each kind the manifests use: `validate()` checks it against the Kubernetes (or the CRD's) schema. */
const models: Record<string, new (data: never) => { validate(): void }> = {
  'apps/v1/Deployment': Deployment,
  'apps/v1/StatefulSet': StatefulSet,
  'v1/Service': Service,
  'v1/ConfigMap': ConfigMap,
  'v1/PersistentVolumeClaim': PersistentVolumeClaim,
  'batch/v1/Job': Job,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'keda.sh/v1alpha1/ScaledObject': ScaledObject,
  'monitoring.coreos.com/v1/ServiceMonitor': ServiceMonitor,
  'monitoring.coreos.com/v1/PrometheusRule': PrometheusRule,
};
const validate = (object: K8sObject) => {
  const Model = models[`${object.apiVersion}/${object.kind}`];
  if (!Model) throw new Error(`no schema known for ${object.apiVersion} ${object.kind}`);
  new Model(object as never).validate();
};

function requireKubectl(): void {
  try {
    execFileSync('sh', ['-c', 'command -v kubectl'], { encoding: 'utf8' });
  } catch {
    throw new Error(
      'kubectl is not on PATH: install kubectl >= 1.27 (https://kubernetes.io/docs/tasks/tools/), whose built-in Kustomize renders deploy/k8s; the CI machines have it',
    );
  }
}

const rendered = new Map<string, K8sObject[]>();
beforeAll(async () => {
  requireKubectl();
  for (const name of kustomizations) {
    const { stdout } = await run('kubectl', ['kustomize', path.join(k8s, name)]);
    rendered.set(
      name,
      parseAllDocuments(stdout).map((document) => document.toJS() as K8sObject),
    );
  }
}, 60_000);

const objectsOf = (name: string) => rendered.get(name)!;
const all = () => [...rendered.values()].flat();
const workloads = () =>
  all().filter((object) => object.spec?.template && object.kind !== 'HorizontalPodAutoscaler');
const envOf = (container: Container) =>
  Object.fromEntries((container.env ?? []).map((entry) => [entry.name, entry.value]));
const ownImage = (container: Container) => container.image.startsWith('cascade-lab');

/** What each program of the image reads from the environment. */
const envSchemas: Record<string, TObject> = {
  downstream: DownstreamEnv,
  gateway: GatewayEnv,
  producer: ProducerEnv,
  worker: WorkerEnv,
  cli: CliEnv,
};
const programOf = (container: Container) =>
  container.args?.[0] === 'serve' ? container.args[1]! : 'cli';
/** Checks across variables too, where the program does (where its queue lives). */
const loadProgramEnv = (program: string, values: Record<string, string | undefined>) =>
  loadConfig(
    envSchemas[program]!,
    values,
    ['producer', 'worker', 'cli'].includes(program) ? queueLocationProblems : undefined,
  );
/** Variables only there to be expanded into others (`$(NAME)`), as Kubernetes does. */
/** Variables there only to be expanded into another variable's value or into an argument. */
const expandedOnly = (container: Container) =>
  (container.env ?? [])
    .map((entry) => entry.name)
    .filter(
      (name) =>
        (container.env ?? []).some((entry) => entry.value?.includes(`$(${name})`)) ||
        (container.args ?? []).some((arg) => arg.includes(`$(${name})`)),
    );
/** The values a container's program gets, with `$(NAME)` expanded (a Secret's as `secret`). */
const expandedEnv = (container: Container) =>
  Object.fromEntries(
    Object.entries(envOf(container)).map(([name, value]) => [
      name,
      value?.replace(/\$\((\w+)\)/g, (_, ref: string) => envOf(container)[ref] ?? 'secret'),
    ]),
  );

describe('deploy/k8s (no cluster here: rendered with kubectl kustomize, checked against the schemas and the repository)', () => {
  it('renders the base, every overlay and the experiment Job', () => {
    expect(
      objectsOf('base')
        .map((object) => `${object.kind}/${object.metadata.name}`)
        .sort(),
    ).toEqual([
      'Deployment/downstream',
      'Deployment/gateway',
      'Deployment/producer',
      'Deployment/worker-analytics',
      'Deployment/worker-audit',
      'Deployment/worker-billing',
      'Service/downstream',
      'Service/gateway',
      'Service/producer',
      'Service/redis',
      'Service/worker',
      'StatefulSet/redis',
    ]);
    expect(objectsOf('overlays/autoscaled').map((object) => object.kind)).toEqual(
      expect.arrayContaining(['ScaledObject', 'HorizontalPodAutoscaler', 'ServiceMonitor']),
    );
  });

  it('validates every object against the Kubernetes schemas and the CRDs, and a broken copy fails', () => {
    for (const object of all())
      expect(() => validate(object), `${object.kind}/${object.metadata.name}`).not.toThrow();
    const deployment = structuredClone(objectsOf('base').find((o) => o.kind === 'Deployment')!);
    deployment.spec!.template!.spec.containers[0]!.ports = [
      { name: 'http', containerPort: 'http' as never },
    ];
    expect(() => validate(deployment)).toThrow(/containerPort must be integer/);
    const scaled = structuredClone(
      objectsOf('overlays/autoscaled').find((o) => o.kind === 'ScaledObject')!,
    );
    delete scaled.spec!.triggers;
    expect(() => validate(scaled)).toThrow(/triggers/);
    const monitor = structuredClone(
      objectsOf('overlays/autoscaled').find((o) => o.kind === 'ServiceMonitor')!,
    );
    monitor.spec!.endpoints = 'http';
    expect(() => validate(monitor)).toThrow(/endpoints/);
  });

  it('runs the programs the image has, with only the variables each one reads', () => {
    const dockerfile = readFileSync(path.join(repoRoot, 'Dockerfile'), 'utf8');
    expect(dockerfile).toContain('ENTRYPOINT ["node", "dist/load/cli.js"]');
    for (const object of workloads())
      for (const container of object.spec!.template!.spec.containers.filter(ownImage)) {
        // The image's ENTRYPOINT is the CLI: a command would replace it.
        expect(container.command, object.metadata.name).toBeUndefined();
        expect(container.image).toBe('cascade-lab:local');
        const program = programOf(container);
        const known = Object.keys(envSchemas[program]!.properties);
        const extra = (container.env ?? [])
          .map((entry) => entry.name)
          .filter(
            (name) =>
              !known.includes(name) &&
              name !== 'NODE_OPTIONS' &&
              !expandedOnly(container).includes(name),
          );
        expect(extra, `${object.metadata.name} (${program})`).toEqual([]);
        // The values given are valid for the program (the token comes from the Secret).
        const values = { ...expandedEnv(container), ADMIN_TOKEN: 'from-the-secret' };
        expect(() => loadProgramEnv(program, values), object.metadata.name).not.toThrow();
      }
  });

  it('gives every service a named port the Service, the probes and PORT agree on, and the admin token from the Secret', () => {
    const base = objectsOf('base');
    for (const service of base.filter((o) => o.kind === 'Service')) {
      const selector = (service.spec!.selector ?? {}) as Record<string, string>;
      const pods = workloads().filter((object) =>
        Object.entries(selector).every(
          ([key, value]) => object.spec!.template!.metadata.labels[key] === value,
        ),
      );
      expect(pods.length, `Service/${service.metadata.name} selects a workload`).toBeGreaterThan(0);
      for (const port of service.spec!.ports as Array<{ targetPort: string; port: number }>)
        for (const pod of pods)
          expect(
            pod.spec!.template!.spec.containers[0]!.ports!.find((p) => p.name === port.targetPort)
              ?.containerPort,
            `${service.metadata.name} → ${pod.metadata.name}`,
          ).toBe(port.port);
    }
    for (const object of base.filter((o) => o.kind === 'Deployment')) {
      const container = object.spec!.template!.spec.containers[0]!;
      expect(Number(envOf(container).PORT)).toBe(container.ports![0]!.containerPort);
      for (const probe of [container.readinessProbe, container.livenessProbe])
        expect(probe?.httpGet, object.metadata.name).toEqual({ path: '/healthz', port: 'http' });
      expect(container.env!.find((entry) => entry.name === 'ADMIN_TOKEN')?.valueFrom).toEqual({
        secretKeyRef: { name: 'cascade-lab-admin', key: 'ADMIN_TOKEN' },
      });
    }
  });

  it('gives every workload a memory limit above its heap, probes, and no root', () => {
    for (const object of workloads()) {
      const pod = object.spec!.template!.spec;
      expect(pod.securityContext?.runAsNonRoot, object.metadata.name).toBe(true);
      for (const container of pod.containers) {
        const limit = container.resources?.limits?.memory;
        expect(limit, `${object.metadata.name}: a memory limit`).toMatch(/^\d+(Mi|Gi)$/);
        const limitMi = Number.parseInt(limit!, 10) * (limit!.endsWith('Gi') ? 1024 : 1);
        const heap = /--max-old-space-size=(\d+)/.exec(envOf(container).NODE_OPTIONS ?? '');
        if (heap) expect(Number(heap[1]), object.metadata.name).toBeLessThan(limitMi);
        if (object.kind !== 'Job')
          expect(container.readinessProbe, object.metadata.name).toBeDefined();
      }
    }
  });

  it('runs the topic compose runs: a worker group per subscriber the producer publishes to', () => {
    const base = objectsOf('base');
    const producer = base.find((o) => o.kind === 'Deployment' && o.metadata.name === 'producer')!;
    const published = envOf(producer.spec!.template!.spec.containers[0]!).SUBSCRIBERS!.split(',');
    const compose = readFileSync(path.join(repoRoot, 'docker-compose.yml'), 'utf8');
    expect(compose).toContain(`SUBSCRIBERS: ${published.join(',')}`);
    const workers = base.filter(
      (o) => o.kind === 'Deployment' && o.metadata.name.startsWith('worker-'),
    );
    expect(
      workers.map((w) => envOf(w.spec!.template!.spec.containers[0]!).SUBSCRIBER).sort(),
    ).toEqual([...published].sort());
    // Each its own selector; the `worker` Service finds every one of them.
    const selectors = workers.map((w) =>
      JSON.stringify((w.spec!.selector as { matchLabels: unknown }).matchLabels),
    );
    expect(new Set(selectors).size).toBe(workers.length);
  });

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

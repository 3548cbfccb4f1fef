import { execFile, execFileSync } from 'node:child_process';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { promisify } from 'node:util';
import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1';
import {
  PrometheusRule,
  ServiceMonitor,
} from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import { Deployment, StatefulSet } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { Job } from 'kubernetes-models/batch/v1';
import { ConfigMap, PersistentVolumeClaim, Service } from 'kubernetes-models/v1';
import type { TObject } from 'typebox';
import { CliEnv } from '../../load/cli/env.ts';
import { DownstreamEnv } from '../../services/downstream/config.ts';
import { loadConfig } from '../../services/shared/config.ts';
import { GatewayEnv } from '../../services/gateway/config.ts';
import { ProducerEnv } from '../../services/producer/config.ts';
import { queueLocationProblems } from '../../services/shared/queue-env.ts';
import { WorkerEnv } from '../../services/worker/config.ts';
import { repoRoot } from '../support/processes.ts';
export const run = promisify(execFile);
export const k8s = path.join(repoRoot, 'deploy/k8s');

/** Every kustomization a user applies: the base, each overlay, the experiment Job, the distributed load. */
export const kustomizations = [
  'base',
  'overlays/autoscaled',
  'overlays/redis-cluster',
  'overlays/redis-cluster-autoscaled',
  'jobs/experiment',
  'jobs/distributed-load',
];

export interface Container {
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
export interface PodTemplate {
  metadata: { labels: Record<string, string> };
  spec: {
    containers: Container[];
    securityContext?: { runAsNonRoot?: boolean };
    terminationGracePeriodSeconds?: number;
    volumes?: Array<{ name: string; configMap?: { name: string } }>;
  };
}
export interface K8sObject {
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
export const models: Record<string, new (data: never) => { validate(): void }> = {
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
export const validate = (object: K8sObject) => {
  const Model = models[`${object.apiVersion}/${object.kind}`];
  if (!Model) throw new Error(`no schema known for ${object.apiVersion} ${object.kind}`);
  new Model(object as never).validate();
};

export function requireKubectl(): void {
  try {
    execFileSync('sh', ['-c', 'command -v kubectl'], { encoding: 'utf8' });
  } catch {
    throw new Error(
      'kubectl is not on PATH: install kubectl >= 1.27 (https://kubernetes.io/docs/tasks/tools/), whose built-in Kustomize renders deploy/k8s; the CI machines have it',
    );
  }
}

export const rendered = new Map<string, K8sObject[]>();

/** Renders every kustomization once per test file (kubectl kustomize). */
export async function renderKustomizations(): Promise<void> {
  requireKubectl();
  for (const name of kustomizations) {
    const { stdout } = await run('kubectl', ['kustomize', path.join(k8s, name)]);
    rendered.set(
      name,
      parseAllDocuments(stdout).map((document) => document.toJS() as K8sObject),
    );
  }
}

export const objectsOf = (name: string) => rendered.get(name)!;
export const all = () => [...rendered.values()].flat();
export const workloads = () =>
  all().filter((object) => object.spec?.template && object.kind !== 'HorizontalPodAutoscaler');
export const envOf = (container: Container) =>
  Object.fromEntries((container.env ?? []).map((entry) => [entry.name, entry.value]));
export const ownImage = (container: Container) => container.image.startsWith('cascade-lab');

/** What each program of the image reads from the environment. */
export const envSchemas: Record<string, TObject> = {
  downstream: DownstreamEnv,
  gateway: GatewayEnv,
  producer: ProducerEnv,
  worker: WorkerEnv,
  cli: CliEnv,
};
export const programOf = (container: Container) =>
  container.args?.[0] === 'serve' ? container.args[1]! : 'cli';
/** Checks across variables too, where the program does (where its queue lives). */
export const loadProgramEnv = (program: string, values: Record<string, string | undefined>) =>
  loadConfig(
    envSchemas[program]!,
    values,
    ['producer', 'worker', 'cli'].includes(program) ? queueLocationProblems : undefined,
  );
/** Variables only there to be expanded into others (`$(NAME)`), as Kubernetes does. */
/** Variables there only to be expanded into another variable's value or into an argument. */
export const expandedOnly = (container: Container) =>
  (container.env ?? [])
    .map((entry) => entry.name)
    .filter(
      (name) =>
        (container.env ?? []).some((entry) => entry.value?.includes(`$(${name})`)) ||
        (container.args ?? []).some((arg) => arg.includes(`$(${name})`)),
    );
/** The values a container's program gets, with `$(NAME)` expanded (a Secret's as `secret`). */
export const expandedEnv = (container: Container) =>
  Object.fromEntries(
    Object.entries(envOf(container)).map(([name, value]) => [
      name,
      value?.replace(/\$\((\w+)\)/g, (_, ref: string) => envOf(container)[ref] ?? 'secret'),
    ]),
  );

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../support/processes.ts';
import {
  validate,
  objectsOf,
  all,
  workloads,
  envOf,
  ownImage,
  envSchemas,
  programOf,
  loadProgramEnv,
  expandedOnly,
  expandedEnv,
  renderKustomizations,
  rendered,
} from './kubernetes-fixtures.ts';

beforeAll(renderKustomizations, 60_000);

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
});

afterAll(() => rendered.clear());

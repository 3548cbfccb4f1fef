import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { request } from 'undici';
import { freePort } from '../../load/stack/redis-server.ts';
import { repoRoot } from './processes.ts';

export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
  seconds: number;
}

/** The host ports the test publishes the stack on (never the defaults a user's stack may hold). */
export interface ComposePorts {
  gateway: number;
  downstream: number;
  producer: number;
  prometheus: number;
  grafana: number;
  /** Redis, published only for the test's own witness (docker-compose.yml does not publish it). */
  redis: number;
}

/**
 * The repository's docker-compose.yml as a user runs it, under a project name of its own,
 * on free host ports (compose takes them from the environment over .env), with one
 * addition in an override file: Redis published on 127.0.0.1, so the test can read the
 * queues itself. Every command is the documented one; only the environment differs.
 */
export async function composeProject(name: string) {
  const ports: ComposePorts = {
    gateway: await freePort(),
    downstream: await freePort(),
    producer: await freePort(),
    prometheus: await freePort(),
    grafana: await freePort(),
    redis: await freePort(),
  };
  const dir = mkdtempSync(path.join(tmpdir(), 'cascade-compose-'));
  const override = path.join(dir, 'witness.yml');
  writeFileSync(override, `services:\n  redis:\n    ports: ['127.0.0.1:${ports.redis}:6379']\n`);
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    COMPOSE_PROJECT_NAME: name,
    COMPOSE_FILE: [path.join(repoRoot, 'docker-compose.yml'), override].join(path.delimiter),
    GATEWAY_PORT: String(ports.gateway),
    DOWNSTREAM_PORT: String(ports.downstream),
    PRODUCER_PORT: String(ports.producer),
    PROMETHEUS_PORT: String(ports.prometheus),
    GRAFANA_PORT: String(ports.grafana),
  };

  /** `docker compose …` in the repository; never throws on a non-zero exit. */
  function compose(
    args: string[],
    options: { env?: Record<string, string>; timeoutMs?: number } = {},
  ): Promise<CommandResult> {
    return docker(['compose', ...args], { ...options, env: { ...env, ...options.env } });
  }

  const url = (port: number) => `http://127.0.0.1:${port}`;
  return {
    name,
    ports,
    compose,
    gatewayUrl: url(ports.gateway),
    producerUrl: url(ports.producer),
    prometheusUrl: url(ports.prometheus),
    witnessRedisUrl: `redis://127.0.0.1:${ports.redis}`,
    /** The id of a service's (first) container. */
    async containerOf(service: string): Promise<string> {
      const { stdout } = await compose(['ps', '-q', service]);
      const id = stdout.trim().split('\n')[0];
      if (!id) throw new Error(`no container for ${service}`);
      return id;
    },
    removeTempFiles: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export type ComposeProject = Awaited<ReturnType<typeof composeProject>>;

/** Runs the docker CLI, collecting its output; kills it after `timeoutMs`. */
export function docker(
  args: string[],
  options: { env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<CommandResult> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn('docker', args, { cwd: repoRoot, env: options.env ?? process.env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 600_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, seconds: (performance.now() - started) / 1000 });
    });
  });
}

/** Prometheus' HTTP API: an instant or range query, or any GET, answering its `data`. */
export async function prometheusApi<T>(base: string, apiPath: string): Promise<T> {
  const response = await request(`${base}/api/v1/${apiPath}`);
  const body = (await response.body.json()) as { status: string; data: T; error?: string };
  if (body.status !== 'success') throw new Error(`${apiPath}: ${body.error ?? body.status}`);
  return body.data;
}

export interface Target {
  labels: { job: string; instance: string };
  health: string;
  lastError: string;
}

export const activeTargets = async (base: string) =>
  (await prometheusApi<{ activeTargets: Target[] }>(base, 'targets')).activeTargets;

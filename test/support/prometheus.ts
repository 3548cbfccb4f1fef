import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { poll } from '../../services/shared/poll.ts';
import { request } from 'undici';
import { parse, stringify } from 'yaml';
import { freePort } from '../../load/stack/redis-server.ts';
import { repoRoot } from './processes.ts';

export const prometheusDir = path.join(repoRoot, 'dashboards/prometheus');

/** The path of a binary from Debian's prometheus package, or an error saying how to get it. */
export function requireBinary(name: 'prometheus' | 'promtool'): string {
  try {
    return execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error(
      `${name} is not on PATH: install Debian's prometheus package (apt-get install prometheus), which ships prometheus and promtool; CI installs it`,
    );
  }
}

export interface ScrapeConfig {
  job_name: string;
  static_configs?: Array<{ targets: string[] }>;
  dns_sd_configs?: Array<{ names: string[]; port: number }>;
}

export interface PrometheusConfig {
  global: Record<string, string>;
  rule_files: string[];
  scrape_configs: ScrapeConfig[];
}

export const readPrometheusConfig = () =>
  parse(readFileSync(path.join(prometheusDir, 'prometheus.yml'), 'utf8')) as PrometheusConfig;

/** host:port per job as the compose file's Prometheus config names them. */
export function composeTargets(config: PrometheusConfig): Record<string, string[]> {
  return Object.fromEntries(
    config.scrape_configs.map((job) => [
      job.job_name,
      [
        ...(job.static_configs ?? []).flatMap((entry) => entry.targets),
        ...(job.dns_sd_configs ?? []).flatMap((entry) =>
          entry.names.map((name) => `${name}:${entry.port}`),
        ),
      ],
    ]),
  );
}

export interface RunningPrometheus {
  url: string;
  query(expr: string, time?: number): Promise<{ result: unknown[]; error?: string }>;
  stop(): Promise<void>;
}

/**
 * The repository's prometheus.yml and rules, run by a real Prometheus with each job's
 * targets replaced by local ones (`targets[job]`, as host:port).
 */
export async function startPrometheus(
  targets: Record<string, string | string[]>,
): Promise<RunningPrometheus> {
  const binary = requireBinary('prometheus');
  const dir = mkdtempSync(path.join(tmpdir(), 'cascade-prometheus-'));
  const config = readPrometheusConfig();
  const missing = config.scrape_configs.filter((job) => !(job.job_name in targets));
  if (missing.length > 0)
    throw new Error(`no local target for job(s) ${missing.map((job) => job.job_name).join(', ')}`);
  const local = {
    ...config,
    rule_files: config.rule_files.map((file) => path.join(prometheusDir, file)),
    scrape_configs: config.scrape_configs.map(({ job_name, ...rest }) => {
      const kept = Object.fromEntries(
        Object.entries(rest).filter(
          ([key]) => !key.endsWith('_sd_configs') && key !== 'static_configs',
        ),
      );
      return { job_name, ...kept, static_configs: [{ targets: [targets[job_name]!].flat() }] };
    }),
  };
  writeFileSync(path.join(dir, 'prometheus.yml'), stringify(local));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(
    binary,
    [
      `--config.file=${path.join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  child.stderr?.on('data', (chunk: Buffer) => (log = (log + chunk.toString()).slice(-4000)));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const { value: ready } = await poll<boolean | 'exited'>(
    () =>
      child.exitCode !== null
        ? Promise.resolve('exited' as const)
        : request(`${url}/-/ready`).then(
            async (response) => {
              await response.body.dump();
              return response.statusCode === 200;
            },
            () => false,
          ),
    (state) => state !== false,
    { timeoutMs: 20_000, everyMs: 200 },
  );
  if (ready !== true) {
    await stop();
    throw new Error(
      ready === 'exited'
        ? `prometheus exited with ${child.exitCode}:\n${log}`
        : `prometheus was not ready within 20 s:\n${log}`,
    );
  }
  return {
    url,
    stop,
    async query(expr, time) {
      const params = new URLSearchParams({ query: expr, ...(time ? { time: String(time) } : {}) });
      const response = await request(`${url}/api/v1/query?${params.toString()}`);
      const body = (await response.body.json()) as {
        status: string;
        error?: string;
        data?: { result: unknown[] };
      };
      return body.status === 'success'
        ? { result: body.data!.result }
        : { result: [], error: body.error ?? `HTTP ${response.statusCode}` };
    },
  };
}

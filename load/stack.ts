import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { request } from 'undici';
import {
  defaultStrategies,
  type ProvidedRedis,
  provideRedis,
} from '../services/shared/redis-provider.ts';

export const serviceNames = ['downstream', 'gateway', 'producer', 'worker'] as const;
export type ServiceName = (typeof serviceNames)[number];

export interface StackService {
  name: ServiceName;
  url: string;
  pid: number;
  logFile: string;
  process: ChildProcess;
}

export interface Stack {
  redis: ProvidedRedis;
  services: Record<ServiceName, StackService>;
  logDir: string;
  /** The ADMIN_TOKEN the services were given, if any; admin calls must send it. */
  adminToken?: string | undefined;
  /** Resolves with the first service that exits before `stop` is called. */
  unexpectedExit: Promise<{
    name: ServiceName;
    code: number | null;
    signal: NodeJS.Signals | null;
  }>;
  /** SIGTERM in reverse order (SIGKILL after `graceMs`), then Redis; removes a temp log dir. */
  stop(graceMs?: number): Promise<void>;
}

export interface StackOptions {
  env?: Record<string, string | undefined>;
  /** Extra env per service (e.g. `POLICY_PRESET` for the gateway). */
  serviceEnv?: Partial<Record<ServiceName, Record<string, string>>>;
  /** Keep logs here; by default a temp dir, removed on stop. */
  logDir?: string;
  seed?: number;
  queueName?: string;
}

/** Each service's main, run from source through tsx or from the build, like this file. */
function entryOf(name: ServiceName): { file: string; execArgv: string[] } {
  const fromSource = import.meta.url.endsWith('.ts');
  const file = new URL(`../services/${name}/main.${fromSource ? 'ts' : 'js'}`, import.meta.url)
    .pathname;
  return { file, execArgv: fromSource ? ['--import', 'tsx'] : [] };
}

/**
 * Resolves with the URL a service logs once it listens ("Server listening at …");
 * rejects if it exits first or takes longer than `timeoutMs`, with what it printed.
 * Detaches its listeners once settled, so a long-lived child's output is not kept.
 */
export function listeningUrl(
  child: ChildProcess,
  label: string,
  timeoutMs: number,
  hint = '',
): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    let output = '';
    const settle = (error: Error | undefined, url?: string) => {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.stderr?.off('data', onData);
      child.off('exit', onExit);
      if (error) reject(error);
      else resolve(url as string);
    };
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (match?.[1]) settle(undefined, match[1]);
    };
    const onExit = (code: number | null) =>
      settle(new Error(`${label} exited with ${code} while starting:\n${output.trim()}`));
    const timer = setTimeout(
      () =>
        settle(
          new Error(
            `${label} did not start within ${timeoutMs / 1000} s${hint}:\n${output.trim()}`,
          ),
        ),
      timeoutMs,
    );
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', onExit);
  });
}

async function startService(
  name: ServiceName,
  env: Record<string, string>,
  logDir: string,
): Promise<StackService> {
  const { file, execArgv } = entryOf(name);
  const logFile = path.join(logDir, `${name}.log`);
  const log = createWriteStream(logFile);
  const child = spawn(process.execPath, [...execArgv, file], {
    env: { ...env, HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: env.LOG_LEVEL ?? 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  const url = await listeningUrl(child, name, 20_000, `; see ${logFile}`);
  const health = await request(`${url}/healthz`);
  await health.body.dump();
  if (health.statusCode !== 200)
    throw new Error(`${name} is not healthy: /healthz answered ${health.statusCode}`);
  return { name, url, pid: child.pid ?? -1, logFile, process: child };
}

async function stopProcess(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/**
 * The whole system on this machine: Redis from the provider (REDIS_URL, a local
 * redis-server, or a container), then downstream, gateway, producer and worker as
 * child processes on free ports, each health-checked before the next starts.
 */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const baseEnv = options.env ?? process.env;
  const ownLogDir = options.logDir === undefined;
  const logDir = options.logDir ?? mkdtempSync(path.join(tmpdir(), 'cascade-lab-'));
  const redis = await provideRedis(
    defaultStrategies(baseEnv, { appendOnly: true, appendFsync: 'always' }),
  );
  const started: StackService[] = [];
  let stopping = false;
  const common: Record<string, string> = {
    PATH: baseEnv.PATH ?? '',
    ...(options.seed !== undefined ? { SEED: String(options.seed) } : {}),
    ...(baseEnv.ADMIN_TOKEN ? { ADMIN_TOKEN: baseEnv.ADMIN_TOKEN } : {}),
  };
  const stop = async (graceMs = 15_000) => {
    stopping = true;
    for (const service of [...started].reverse()) await stopProcess(service.process, graceMs);
    await redis.stop();
    if (ownLogDir) rmSync(logDir, { recursive: true, force: true });
  };
  try {
    const queue = { REDIS_URL: redis.url, QUEUE_NAME: options.queueName ?? 'events' };
    const start = async (name: ServiceName, env: Record<string, string>) => {
      const service = await startService(
        name,
        { ...common, ...env, ...options.serviceEnv?.[name] },
        logDir,
      );
      started.push(service);
      return service;
    };
    const downstream = await start('downstream', {});
    const [gateway, producer, worker] = await Promise.all([
      start('gateway', { DOWNSTREAM_URL: downstream.url }),
      start('producer', queue),
      start('worker', { ...queue, DOWNSTREAM_URL: downstream.url }),
    ]);
    const unexpectedExit = new Promise<{
      name: ServiceName;
      code: number | null;
      signal: NodeJS.Signals | null;
    }>((resolve) => {
      for (const service of started) {
        service.process.once('exit', (code, signal) => {
          if (!stopping) resolve({ name: service.name, code, signal });
        });
      }
    });
    return {
      redis,
      services: { downstream, gateway, producer, worker },
      logDir,
      adminToken: common.ADMIN_TOKEN,
      unexpectedExit,
      stop,
    };
  } catch (error) {
    await stop(2000);
    throw error;
  }
}

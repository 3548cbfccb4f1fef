import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';

/**
 * Node processes of our own (services, baselines, the CLI), for the local stack, the
 * tests and the benchmarks: one way to start one, learn where it listens and stop it.
 */

/** `.ts` entries run from source through tsx; `.js` entries as built. */
export const loaderArgs = (file: string): string[] =>
  file.endsWith('.ts') ? ['--import', 'tsx'] : [];

export interface SpawnNodeOptions {
  /** The child's whole environment: nothing is inherited. */
  env: Record<string, string>;
  args?: string[];
  /** Extra node flags, e.g. `--cpu-prof`. */
  nodeArgs?: string[];
  cwd?: string;
  /** A pipe to talk to the child on (a local generator waits for its start there). @defaultValue 'ignore' */
  stdin?: 'ignore' | 'pipe';
}

export function spawnNode(file: string, options: SpawnNodeOptions): ChildProcess {
  return spawn(
    process.execPath,
    [...loaderArgs(file), ...(options.nodeArgs ?? []), file, ...(options.args ?? [])],
    {
      env: options.env,
      stdio: [options.stdin ?? 'ignore', 'pipe', 'pipe'],
      ...(options.cwd ? { cwd: options.cwd } : {}),
    },
  );
}

/**
 * Resolves with the URL a server logs once it listens ("Server listening at …");
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

/** Sends `signal` (SIGKILL after `graceMs`) and answers the exit code; at once if it has exited. */
export async function stopChild(
  child: ChildProcess,
  graceMs: number,
  signal: NodeJS.Signals = 'SIGTERM',
): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  const exited = once(child, 'exit') as Promise<[number | null]>;
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  const [code] = await exited;
  clearTimeout(timer);
  return code;
}

export interface NodeServer {
  child: ChildProcess;
  url: string;
  /** Everything it printed so far (kept in memory unless it logs to a file). */
  output(): string;
  stop(options?: { signal?: NodeJS.Signals; graceMs?: number }): Promise<number | null>;
}

export interface StartNodeServerOptions extends SpawnNodeOptions {
  label?: string;
  /** @defaultValue 20000 */
  timeoutMs?: number;
  /** Write its output here instead of keeping it in memory. */
  logFile?: string;
  /** Told the process as soon as it is spawned, before it listens (to stop it while it starts). */
  onSpawn?: (child: ChildProcess) => void;
}

/** Starts a server entry on the port its env names (`PORT=0`: a free one) and resolves once it listens. */
export async function startNodeServer(
  file: string,
  options: StartNodeServerOptions,
): Promise<NodeServer> {
  const child = spawnNode(file, options);
  options.onSpawn?.(child);
  let output = '';
  if (options.logFile) {
    const log = createWriteStream(options.logFile);
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
  } else {
    const collect = (chunk: Buffer) => {
      output += chunk.toString();
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
  }
  const label = options.label ?? file;
  const hint = options.logFile ? `; see ${options.logFile}` : '';
  const url = await listeningUrl(child, label, options.timeoutMs ?? 20_000, hint);
  return {
    child,
    url,
    output: () => output,
    stop: ({ signal = 'SIGTERM', graceMs = 15_000 } = {}) => stopChild(child, graceMs, signal),
  };
}

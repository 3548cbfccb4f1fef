import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { type NodeServer, spawnNode, startNodeServer } from '../../load/stack/child-process.ts';

export const repoRoot = path.resolve(import.meta.dirname, '../..');

/** What a child needs from the test's environment: nothing else is inherited. */
const baseEnv = (): Record<string, string> => ({
  PATH: process.env.PATH ?? '',
  HOME: process.env.HOME ?? '',
});

export interface ServiceProcess extends Omit<NodeServer, 'stop'> {
  /** Sends `signal` (SIGKILL after 30 s) and answers the exit code. */
  stop: (signal?: NodeJS.Signals) => Promise<number | null>;
}

/** Runs an entry (relative to the repo) with node: `.ts` through tsx, `.js` as built. */
export function runEntry(
  entry: string,
  env: Record<string, string>,
  args: string[] = [],
): ChildProcess {
  return spawnNode(path.join(repoRoot, entry), {
    env: { ...baseEnv(), ...env },
    args,
    cwd: repoRoot,
  });
}

/** Starts a service's entry on a free port and resolves once it logs where it listens. */
export async function startServiceProcess(
  entry: string,
  env: Record<string, string> = {},
  args: string[] = [],
): Promise<ServiceProcess> {
  const server = await startNodeServer(path.join(repoRoot, entry), {
    env: { ...baseEnv(), HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', ...env },
    args,
    cwd: repoRoot,
    label: entry,
    timeoutMs: 30_000,
  });
  return { ...server, stop: (signal = 'SIGTERM') => server.stop({ signal, graceMs: 30_000 }) };
}

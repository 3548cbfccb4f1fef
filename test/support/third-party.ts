import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from '../../load/stack/redis-server.ts';
import { eventually } from './http.ts';
import { repoRoot } from './processes.ts';

/** A third-party HTTP server nobody here wrote: `http-server` from npm, serving a temp dir. */
export interface ThirdPartyServer {
  url: string;
  /** The directory it serves: write files here. */
  dir: string;
  process: ChildProcess;
  /** The request lines it logged so far (`"GET /a.json"`), in order. */
  requests(): string[];
  stop(): Promise<void>;
}

export async function startHttpServer(): Promise<ThirdPartyServer> {
  const dir = mkdtempSync(path.join(tmpdir(), 'cascade-http-server-'));
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [
      path.join(repoRoot, 'node_modules/http-server/bin/http-server'),
      dir,
      '-p',
      String(port),
      '-a',
      '127.0.0.1',
      '-c-1',
    ],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  );
  // It logs a line per request: `[date] "GET /a.json" "<user agent>"`.
  let log = '';
  child.stdout?.on('data', (chunk: Buffer) => (log += chunk.toString()));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await eventually(async () => {
      if (child.exitCode !== null) throw new Error(`http-server exited with ${child.exitCode}`);
      await fetch(`${url}/`);
    }, 20_000);
  } catch (error) {
    await stop();
    throw error;
  }
  const requests = () =>
    [...log.matchAll(/"(GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS) ([^"]*)"/g)].map(
      (match) => `${match[1]} ${match[2]}`,
    );
  return { url, dir, process: child, requests, stop };
}

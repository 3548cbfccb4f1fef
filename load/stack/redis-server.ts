import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface RedisServerOptions {
  /** @defaultValue a free port */
  port?: number;
  /** Data directory; reused on restart so AOF survives. @defaultValue a new temp dir */
  dir?: string;
  /** @defaultValue false */
  appendOnly?: boolean;
  /** @defaultValue 'everysec' */
  appendFsync?: 'always' | 'everysec' | 'no';
  /** @defaultValue 'redis-server' */
  binary?: string;
  /** More `--name value` arguments, e.g. cluster mode's. */
  extraArgs?: string[];
}

/** A redis-server child process of our own, on 127.0.0.1, in a temp dir that `stop` removes. */
export interface RedisServer {
  url: string;
  port: number;
  dir: string;
  process: ChildProcess;
  /** SIGKILL: a crash, for tests; the data dir stays for `restart`. */
  kill(): Promise<void>;
  /** Starts redis-server again on the same port and data dir (after `kill`). */
  restart(): Promise<void>;
  /** Stops it and removes its temp dir. */
  stop(): Promise<void>;
}

export function findRedisServerBinary(binary = 'redis-server'): string | undefined {
  try {
    execFileSync(binary, ['--version'], { stdio: 'ignore' });
    return binary;
  } catch {
    return undefined;
  }
}

export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  if (address === null || typeof address === 'string') throw new Error('no free port');
  return address.port;
}

function launch(
  binary: string,
  port: number,
  dir: string,
  options: RedisServerOptions,
): Promise<ChildProcess> {
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--save',
    '',
    '--appendonly',
    options.appendOnly ? 'yes' : 'no',
    '--appendfsync',
    options.appendFsync ?? 'everysec',
    '--maxmemory-policy',
    'noeviction',
    '--daemonize',
    'no',
    ...(options.extraArgs ?? []),
  ];
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let output = '';
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) {
        child.stdout?.off('data', onData);
        child.stdout?.resume();
        resolve(child);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}:\n${output}`)));
  });
}

/** Starts `redis-server` on a free port (noeviction; AOF and fsync as asked). */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  const binary = options.binary ?? 'redis-server';
  const port = options.port ?? (await freePort());
  const dir = options.dir ?? mkdtempSync(path.join(tmpdir(), 'cascade-redis-'));
  let child = await launch(binary, port, dir, options);
  const terminate = async (signal: NodeJS.Signals) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill(signal);
    await once(child, 'exit');
  };
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    get process() {
      return child;
    },
    kill: () => terminate('SIGKILL'),
    restart: async () => {
      await terminate('SIGKILL');
      child = await launch(binary, port, dir, options);
    },
    stop: async () => {
      await terminate('SIGTERM');
      if (options.dir === undefined) rmSync(dir, { recursive: true, force: true });
    },
  };
}

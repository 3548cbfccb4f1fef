import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { call, eventually } from '../support/http.ts';
import { repoRoot } from '../support/processes.ts';

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('cascade-lab up', () => {
  it(
    'starts Redis, the services and a worker per subscriber of a three-subscriber topic, serves both paths, and Ctrl-C leaves nothing behind',
    { timeout: 90_000 },
    async () => {
      const env = { ...process.env };
      delete env.REDIS_URL;
      const up = spawn(process.execPath, ['--import', 'tsx', 'load/cli.ts', 'up'], {
        cwd: repoRoot,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      up.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      up.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      try {
        await eventually(() => expect(stdout).toContain('Ctrl-C stops everything.'), 60_000);
        const services: Record<string, { url: string; pid: number; log: string }> = {};
        for (const m of stdout.matchAll(/^ {2}(\S+)\s+(\S+)\s+pid (\d+)\s+log (\S+)$/gm)) {
          services[m[1]!] = { url: m[2]!, pid: Number(m[3]), log: m[4]! };
        }
        expect(Object.keys(services).sort()).toEqual([
          'downstream',
          'gateway',
          'producer',
          'worker/analytics',
          'worker/audit',
          'worker/billing',
        ]);
        expect(stdout).toMatch(/redis\s+redis:\/\/127\.0\.0\.1:\d+\s+\((binary|env|container)\)/);

        const rpc = await call(`${services.gateway!.url}/rpc`, { body: { id: 'up-1' } });
        expect(rpc.status).toBe(200);
        expect(
          (await call(`${services.producer!.url}/events`, { body: { id: 'up-1' } })).status,
        ).toBe(202);
        // One event, one job per subscriber, each done by its own worker.
        await eventually(async () => {
          const queue = (await call(`${services.producer!.url}/admin/queue`)).body as {
            completed: number;
            subscribers: Array<{ name: string; completed: number }>;
          };
          expect(queue.completed).toBe(3);
          expect(queue.subscribers.map(({ name, completed }) => [name, completed])).toEqual([
            ['billing', 1],
            ['audit', 1],
            ['analytics', 1],
          ]);
        });

        const logDir = path.dirname(services.gateway!.log);
        expect(existsSync(logDir)).toBe(true);
        up.kill('SIGINT');
        const [code] = (await once(up, 'exit')) as [number | null];
        expect(code).toBe(0);
        expect(stderr).toContain('cascade-lab up: stopped');
        for (const service of Object.values(services)) expect(isAlive(service.pid)).toBe(false);
        expect(existsSync(logDir)).toBe(false);
      } finally {
        if (up.exitCode === null) up.kill('SIGKILL');
      }
    },
  );
});

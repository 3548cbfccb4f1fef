import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Pool } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProducer } from '../support/event-path.ts';
import { uniqueQueueName, useRedisPerFile } from '../support/redis.ts';
import { type Running, startDownstream, startGateway } from '../support/rpc-path.ts';

const run = promisify(execFile);
const { redis } = useRedisPerFile();
const dir = mkdtempSync(path.join(tmpdir(), 'cascade-oversized-'));
/** 2 MiB of JSON: past every route's limit (16 KiB to 64 KiB). */
const big = path.join(dir, 'big.json');
writeFileSync(big, JSON.stringify({ id: 'x', payload: 'p'.repeat(2 * 1024 * 1024) }));

let downstream: Running;
let gateway: Running;
let producer: Running;
beforeAll(async () => {
  downstream = await startDownstream();
  gateway = await startGateway(downstream.url);
  producer = await startProducer(redis().url, uniqueQueueName('oversized'));
});
afterAll(async () => {
  await Promise.all([producer?.app.close(), gateway?.app.close(), downstream?.app.close()]);
  rmSync(dir, { recursive: true, force: true });
});

/** curl, another process sending as fast as it can (with Expect: 100-continue, as curl does for a big body). */
async function curl(method: string, url: string) {
  const { stdout } = await run('curl', [
    '-s',
    '-w',
    '\n%{http_code}',
    '-X',
    method,
    url,
    '-H',
    'content-type: application/json',
    '--data-binary',
    `@${big}`,
  ]).catch((error: { code: number; stdout: string }) => ({
    stdout: `curl exit ${error.code}\n${error.stdout}`,
  }));
  const lines = stdout.trim().split('\n');
  return { status: lines.at(-1), body: lines.slice(0, -1).join('\n') };
}

describe('an oversized body', () => {
  const routes = (): Array<[string, string, string]> => [
    ['POST', `${downstream.url}/work`, 'downstream'],
    ['PUT', `${downstream.url}/admin/faults`, 'downstream admin'],
    ['POST', `${gateway.url}/rpc`, 'gateway'],
    ['PUT', `${gateway.url}/admin/policy`, 'gateway admin'],
    ['POST', `${producer.url}/events`, 'producer'],
  ];

  it('gets 413 with its JSON body on every route, every time, never a reset', async () => {
    const answers: string[] = [];
    for (const [method, url, name] of routes())
      for (let i = 0; i < 10; i += 1) {
        const { status, body } = await curl(method, url);
        answers.push(
          `${name} ${status} ${body.includes('"error":"payload_too_large"') ? 'json' : body}`,
        );
      }
    expect(answers.filter((answer) => !answer.endsWith(' 413 json'))).toEqual([]);
  });

  it('leaves the connection open: the next request on it is answered', async () => {
    const pool = new Pool(downstream.url, { connections: 1 });
    try {
      const refused = await pool.request({
        method: 'POST',
        path: '/work',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ id: 'y'.repeat(100_000) }),
      });
      expect(refused.statusCode).toBe(413);
      expect(refused.headers.connection).not.toBe('close');
      expect(await refused.body.json()).toMatchObject({ error: 'payload_too_large' });
      const next = await pool.request({
        method: 'POST',
        path: '/work',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ id: 'small' }),
      });
      expect(next.statusCode).toBe(200);
      await next.body.dump();
    } finally {
      await pool.close();
    }
  });
});

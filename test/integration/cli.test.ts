import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../support/processes.ts';
import { builtCli } from '../support/built-cli.ts';

const run = promisify(execFile);
const cli = (args: string[]) =>
  run(process.execPath, [builtCli(), ...args], { cwd: repoRoot }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => error,
  );

/** A target that counts what reaches it: a refused command line must send nothing. */
let requests = 0;
const server = createServer((_request, response) => {
  requests += 1;
  response.writeHead(200).end('{}');
});
let url = '';
beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((resolve) => server.close(resolve)));

describe('cascade-lab on the command line', () => {
  it('exits 2 on a misspelt flag with one line naming it and the nearest valid one, sending nothing', async () => {
    const result = await cli([
      'load',
      '--target',
      'http',
      '--url',
      `${url}/x`,
      '--schedule',
      'constant:ratePerSecond=50,durationMs=500',
      '--segmnet',
      '0/2',
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toEqual([
      'cascade-lab load: unknown flag --segmnet; did you mean --segment? (cascade-lab load --help)',
    ]);
    expect(requests).toBe(0);
  });

  it('names an unknown command and the nearest one; help lists every command', async () => {
    const wrong = await cli(['experimnt', 'scenarios/seed.yaml']);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('unknown command "experimnt"; did you mean experiment?');
    const help = await cli(['help']);
    expect(help.code).toBe(0);
    for (const name of ['experiment', 'sweep', 'up', 'load', 'merge', 'serve', 'dlq'])
      expect(help.stdout).toContain(`cascade-lab ${name}`);
    const one = await cli(['merge', '--help']);
    expect(one.stdout).toContain('--results-redis URL');
  });
});

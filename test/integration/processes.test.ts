import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { call } from '../support/http.ts';
import { runEntry, startServiceProcess } from '../support/processes.ts';

async function exitOf(entry: string, env: Record<string, string>) {
  const child = runEntry(entry, env);
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stderr };
}

describe('service processes', () => {
  it('the gateway exits non-zero naming every bad variable', async () => {
    const { code, stderr } = await exitOf('services/gateway/main.ts', {
      PORT: 'eighty',
      POLICY_PRESET: 'reckless',
      DOWNSTREAM_CONNECTIONS: '0',
    });
    expect(code).toBe(1);
    expect(stderr).toContain('gateway: invalid configuration:');
    expect(stderr).toContain('PORT: must be integer (got "eighty")');
    expect(stderr).toContain(
      'POLICY_PRESET: must be one of safe, unsafe, budgeted (got "reckless")',
    );
    expect(stderr).toContain('DOWNSTREAM_CONNECTIONS: must be >= 1 (got 0)');
  });

  it('the downstream exits non-zero naming the bad variable', async () => {
    const { code, stderr } = await exitOf('services/downstream/main.ts', {
      FAIL_PROBABILITY: 'lots',
    });
    expect(code).toBe(1);
    expect(stderr).toContain('FAIL_PROBABILITY: must be number (got "lots")');
  });

  it('on SIGTERM finishes the request in flight, then exits 0', async () => {
    const downstream = await startServiceProcess('services/downstream/main.ts', {
      BASE_LATENCY_MS: '600',
      JITTER_MS: '0',
      FAIL_PROBABILITY: '0',
    });
    const inFlight = call(`${downstream.url}/work`, { body: { id: 'slow' } });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const exited = downstream.stop('SIGTERM');
    const response = await inFlight;
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ id: 'slow' });
    expect(await exited).toBe(0);
    await expect(call(`${downstream.url}/healthz`)).rejects.toThrow();
  });

  it('on SIGINT an idle gateway closes its pool and exits 0', async () => {
    const gateway = await startServiceProcess('services/gateway/main.ts');
    expect((await call(`${gateway.url}/healthz`)).body).toEqual({
      status: 'ok',
      service: 'gateway',
    });
    expect(await gateway.stop('SIGINT')).toBe(0);
    expect(gateway.output()).toContain('closing');
  });
});

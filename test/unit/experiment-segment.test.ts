import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runExperimentCommand } from '../../load/cli/experiment.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'cascade-segment-flags-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const file = path.join(dir, 'two-runs.yaml');
writeFileSync(
  file,
  `name: two-runs
load: { kind: constant, ratePerSecond: 10, durationMs: 1000 }
runs:
  - { name: safe, target: rpc }
  - { name: crash, target: events, killWorker: { at: 100 } }
`,
);

async function problemsOf(options: Parameters<typeof runExperimentCommand>[1]) {
  let text = '';
  const code = await runExperimentCommand(file, options, {
    out: () => undefined,
    err: (line) => (text += line),
    interactive: false,
  });
  return {
    code,
    lines: text
      .trim()
      .split('\n')
      .map((line) => line.replace(/^cascade-lab experiment: /, '').trim()),
  };
}

describe('experiment --segment: one generator of a run split across machines', () => {
  it('names every problem with its flags before it touches anything', async () => {
    const { code, lines } = await problemsOf({
      segment: '0/2',
      timeScale: 'auto',
      repeat: '2',
      generators: '2',
    });
    expect(code).toBe(2);
    expect(lines).toEqual([
      '--run: a generator of a split run runs one run; name one of safe, crash',
      '--time-scale: auto probes with one generator; give every generator a number',
      '--repeat: a split run runs once',
      '--generators: a split run has one generator per --segment',
      '--out DIR or --results-redis URL: a generator with --segment or --start-at writes its result to one of them, for cascade-lab merge',
    ]);
  });

  it('needs the running stack every generator shares, and a run it can run there', async () => {
    expect((await problemsOf({ segment: '1/2', run: 'safe', outDir: dir })).lines).toEqual([
      '--urls: the generators of a split run share one running stack (cascade-lab up, compose, Kubernetes)',
    ]);
    const crash = await problemsOf({
      segment: '1/2',
      run: 'crash',
      outDir: dir,
      urls: 'downstream=http://127.0.0.1:1,gateway=http://127.0.0.1:2,producer=http://127.0.0.1:3,worker=http://127.0.0.1:4',
    });
    expect(crash.lines).toEqual(['--run: crash kills a worker, which needs a fresh local stack']);
    expect((await problemsOf({ segment: '0/2', run: 'nope', outDir: dir })).lines[0]).toBe(
      '--run: the scenario has no run "nope" (it has safe, crash)',
    );
  });
});

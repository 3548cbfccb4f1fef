import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import type { ExperimentResult } from '../../load/experiment/result.ts';
import type { SweepResult } from '../../load/sweep/run-sweep.ts';
import { defaultVerdictRule } from '../../load/scenario/sweep-spec.ts';
import { judgeRecovery } from '../../load/experiment/recovery.ts';
import { renderInChromium } from '../support/chromium.ts';
import { eventually } from '../support/http.ts';
import { repoRoot } from '../support/processes.ts';
import { builtCli } from '../support/built-cli.ts';

const run = promisify(execFile);
const dir = mkdtempSync(path.join(tmpdir(), 'cascade-sweep-'));
const artifacts = path.join(repoRoot, 'test-artifacts');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * Every request fails while the fault lasts; no retries, no random failures, a timeout no
 * stall on a busy machine reaches: each cell dips for the fault (and the breaker's open
 * time after it), then is back, so the verdicts are known before the run.
 */
const scenario = `
name: tiny-sweep
seed: 5
downstream: { failProbability: 0 }
faults:
  - { at: 1000, kind: error, durationMs: 500 }
load: { kind: constant, ratePerSecond: 20, durationMs: 6000 }
runs:
  - name: plain
    target: rpc
    policy: { preset: safe, maxRetries: 0, perAttemptTimeoutMs: 2000 }
sweep:
  fields:
    - { path: load.ratePerSecond, values: [20, 40] }
    - { path: 'faults[0].durationMs', values: [500, 1500] }
`;

const cli = (...args: string[]) => [builtCli(), 'sweep', ...args];
const envWithout = () => {
  const env = { ...process.env };
  delete env.REDIS_URL;
  delete env.CASCADE_URLS;
  return env;
};

const readJson = <T>(file: string) => JSON.parse(readFileSync(file, 'utf8')) as T;

describe('cascade-lab sweep', () => {
  it(
    'runs a 2 × 2 grid end to end, judges each cell from its own run data, and maps it',
    { timeout: 240_000 },
    async () => {
      const file = path.join(dir, 'tiny.yaml');
      writeFileSync(file, scenario);
      const out = path.join(dir, 'grid');
      const { stdout, stderr } = await run(process.execPath, cli(file, '--out', out), {
        cwd: repoRoot,
        env: envWithout(),
      });
      // Progress: cells done, the current cell, the time left.
      expect(stderr).toMatch(
        /\[0\/4 cells done\] cell 1: load\.ratePerSecond=20, faults\[0\]\.durationMs=500 · plain · 0:\d\d elapsed, about \d+:\d\d left/,
      );
      expect(stderr).toContain(
        '[3/4 cells done] cell 4: load.ratePerSecond=40, faults[0].durationMs=1500',
      );
      expect(stdout).toMatch(/^plain:\n {2}1500 │/);
      expect(stdout).toContain('rows: faults[0].durationMs; columns: load.ratePerSecond');
      expect(stdout).toContain('Time scale 1: every time constant ran × 1');

      const result = readJson<SweepResult>(path.join(out, 'summary.json'));
      expect(result.cells).toHaveLength(4);
      expect(result.stack).toBe('a fresh local stack per run');
      for (const cell of result.cells) {
        const [rate, faultMs] = cell.values.map(({ value }) => value as number) as [number, number];
        const experiment = readJson<ExperimentResult>(
          path.join(out, 'cells', cell.id, 'summary.json'),
        );
        const summary = experiment.runs[0]!;
        // Every arrival of this cell's schedule, accounted for.
        expect(summary.sent).toBe(rate * 6);
        expect(summary.ok + summary.failed + summary.dropped).toBe(summary.sent);
        expect(summary.faultWindows).toEqual([
          { startMs: 1000, endMs: 1000 + faultMs, kind: 'error' },
        ]);
        // The verdict is the rule applied to the cell's own series…
        const judged = cell.runs[0]!;
        expect(judged.repeats).toEqual([
          expect.objectContaining(
            judgeRecovery(summary.series, summary.faultWindows, defaultVerdictRule),
          ),
        ]);
        // …and the series says what the scenario makes certain: every answer failed during
        // the fault; the first window at 90 % ok came when the breaker closed, the one
        // before it was not; after it, nothing failed (no random failures, no retries).
        expect(judged.verdict).toBe('recovered');
        const buckets = (from: number, to: number) =>
          summary.series.filter((b) => b.startMs >= from && b.startMs < to);
        const share = (from: number) => {
          const window = buckets(from, from + defaultVerdictRule.windowMs);
          const ok = window.reduce((sum, b) => sum + b.ok, 0);
          return ok / window.reduce((sum, b) => sum + b.ok + b.failed + b.dropped, 0);
        };
        expect(buckets(1100, 1000 + faultMs).every((b) => b.ok === 0 && b.failed > 0)).toBe(true);
        const back = 1000 + faultMs + judged.recoveryMs!;
        expect(share(back)).toBeGreaterThanOrEqual(0.9);
        if (judged.recoveryMs! > 0) expect(share(back - 100)).toBeLessThan(0.9);
        expect(buckets(back + defaultVerdictRule.windowMs, 6000).every((b) => b.failed === 0)).toBe(
          true,
        );
        expect(judged.goodputRps).toBe(summary.goodputRps);
      }

      const report = path.join(out, 'report.html');
      const html = readFileSync(report, 'utf8');
      expect(html.match(/class="heatmap"/g)).toHaveLength(1);
      for (const cell of result.cells) {
        expect(html).toContain(`href="${cell.report}"`);
        expect(existsSync(path.join(out, cell.report))).toBe(true);
      }
      mkdirSync(artifacts, { recursive: true });
      const rendered = await renderInChromium(report, path.join(artifacts, 'sweep-report.png'));
      expect(rendered.errors).toEqual([]);
      expect(rendered.requests).toEqual([]);
    },
  );

  it(
    'stops on Ctrl-C with its services, keeps the cells it finished, and runs only the others when started again',
    { timeout: 180_000 },
    async () => {
      const file = path.join(dir, 'resume.yaml');
      writeFileSync(file, scenario.replace(/sweep:[^]*$/, ''));
      const out = path.join(dir, 'resume');
      const args = cli(file, '--out', out, '--field', 'load.ratePerSecond=20,30');
      // Its own process group: whatever it started can be found, and must be gone.
      const child = spawn(process.execPath, args, {
        cwd: repoRoot,
        env: envWithout(),
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const exited = once(child, 'exit') as Promise<[number | null, string | null]>;
      // The cells with their marker: done.
      const doneCells = () =>
        existsSync(path.join(out, 'cells'))
          ? readdirSync(path.join(out, 'cells')).filter((id) =>
              existsSync(path.join(out, 'cells', id, 'cell.json')),
            )
          : [];
      await eventually(() => expect(doneCells(), stderr).not.toEqual([]), 120_000);
      process.kill(child.pid!, 'SIGINT');
      const [code] = await exited;
      expect(code, stderr).toBe(130);
      expect(stderr).toContain('SIGINT: stopping the services; the cells finished so far are kept');
      await eventually(async () => expect(await groupMembers(child.pid!)).toEqual([]));
      const [kept] = doneCells();
      const marker = readFileSync(path.join(out, 'cells', kept!, 'cell.json'), 'utf8');

      const again = await run(process.execPath, args, { cwd: repoRoot, env: envWithout() });
      expect(again.stderr).toContain('1 of 2 cells are already done');
      expect(again.stderr).toMatch(/\[1\/2 cells done\] cell 2: load\.ratePerSecond=30/);
      expect(again.stderr).not.toContain('cell 1:');
      const result = readJson<SweepResult>(path.join(out, 'summary.json'));
      expect(result.cells.map((cell) => [cell.values[0]!.value, cell.resumed])).toEqual([
        [20, true],
        [30, false],
      ]);
      // The kept cell was read back, not run again.
      expect(readFileSync(path.join(out, 'cells', kept!, 'cell.json'), 'utf8')).toBe(marker);
      expect(result.cells.every((cell) => cell.runs[0]!.verdict === 'recovered')).toBe(true);
      // One field: lines against it (goodput, amplification, recovery), not a map.
      const html = readFileSync(path.join(out, 'report.html'), 'utf8');
      expect(html.match(/class="line-chart"/g)).toHaveLength(3);
      expect(html).not.toContain('class="heatmap"');
      const rendered = await renderInChromium(
        path.join(out, 'report.html'),
        path.join(artifacts, 'sweep-lines.png'),
      );
      expect(rendered.errors).toEqual([]);
    },
  );
});

/** The processes in a process group. */
async function groupMembers(pgid: number): Promise<string[]> {
  const { stdout } = await run('ps', ['-eo', 'pgid=,pid=,args=']);
  return stdout.split('\n').filter((line) => line.trim().split(/\s+/)[0] === String(pgid));
}

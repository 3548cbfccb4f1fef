import { describe, expect, it } from 'vitest';
import { runSweepCommand } from '../../load/cli/sweep.ts';

describe('cascade-lab sweep, before it runs anything', () => {
  const sweep = async (file: string, options: Parameters<typeof runSweepCommand>[1]) => {
    let stderr = '';
    const code = await runSweepCommand(file, options, {
      out: () => undefined,
      err: (text) => (stderr += text),
      interactive: false,
    });
    return { code, stderr };
  };

  it('says every problem with its flags at once, and exits 2', async () => {
    const { code, stderr } = await sweep('scenarios/metastable-map.yaml', {
      fields: ['load.ratePerSecond', 'a=1', 'b=2', 'c=3'],
      timeScale: 'auto',
      repeat: '0',
    });
    expect(code).toBe(2);
    expect(stderr.split('\n').filter(Boolean)).toEqual([
      'cascade-lab sweep: --repeat: must be an integer from 1 to 50 (got "0")',
      'cascade-lab sweep: --time-scale: auto would probe in every cell; give a number',
      'cascade-lab sweep: --field: "load.ratePerSecond" is not PATH=VALUES',
      'cascade-lab sweep: --field: at most two fields (a map)',
    ]);
  });

  it('refuses a scenario with nothing to sweep, and a field that makes a cell invalid', async () => {
    const none = await sweep('scenarios/metastable.yaml', {});
    expect(none.code).toBe(2);
    expect(none.stderr).toContain(
      'metastable: nothing to sweep: add sweep.fields to the scenario, or pass --field PATH=VALUES',
    );
    const bad = await sweep('scenarios/metastable-map.yaml', {
      fields: ['runs[4].policy.maxRetries=1,2'],
    });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(
      'runs[4].policy.maxRetries: runs has 4 elements, not 5 (in every cell)',
    );
  });
});

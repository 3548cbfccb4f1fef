import { describe, expect, it } from 'vitest';
import { PartError } from '../../load/distributed/part.ts';
import { ScenarioError } from '../../load/scenario/scenario.ts';
import { SweepError } from '../../load/sweep/run-sweep.ts';
import { ConfigError } from '../../services/shared/config.ts';
import { ProblemsError } from '../../services/shared/problems.ts';

describe('ProblemsError: every error that lists its problems', () => {
  it('puts each problem on its own line under the heading, indented', () => {
    const error = new ScenarioError('a.yaml', ['/rps: must be >= 0', '/seed: unknown field']);
    expect(error).toBeInstanceOf(ProblemsError);
    expect(error.name).toBe('ScenarioError');
    expect(error.problems).toEqual(['/rps: must be >= 0', '/seed: unknown field']);
    expect(error.message).toBe(
      'a.yaml: invalid scenario:\n  /rps: must be >= 0\n  /seed: unknown field',
    );
    expect(new ConfigError(['PORT: not a number']).message).toBe(
      'invalid configuration:\n  PORT: not a number',
    );
  });

  it('without a heading, is the problems one per line, and names its own class', () => {
    for (const error of [new SweepError(['x', 'y']), new PartError(['x', 'y'])]) {
      expect(error).toBeInstanceOf(ProblemsError);
      expect(error.message).toBe('x\ny');
      expect(error.name).toBe(error.constructor.name);
    }
  });
});

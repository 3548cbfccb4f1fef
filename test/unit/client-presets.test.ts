import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { applyPolicyUpdate, presetNames, presets } from '../../services/gateway/policy.ts';
import { presetCells } from '../support/preset-cells.ts';

/** The rows of docs/resilience.md's client presets table, by preset name. */
function documentedRows(): Map<string, string[]> {
  const text = readFileSync(new URL('../../docs/resilience.md', import.meta.url), 'utf8');
  const section = text.slice(text.indexOf('#### Client presets'));
  const rows = new Map<string, string[]>();
  for (const line of section.split('\n')) {
    const match = /^\| `([a-z0-9-]+)` +\|(.*)\|$/.exec(line);
    if (match)
      rows.set(
        match[1]!,
        match[2]!.split('|').map((cell) => cell.trim()),
      );
  }
  return rows;
}

describe('client presets', () => {
  const rows = documentedRows();

  it('are every preset, each with a row in the docs', () => {
    expect([...rows.keys()]).toEqual([...presetNames]);
  });

  it.each([...presetNames])('%s: every field as the docs table states it', (name) => {
    expect(presetCells(presets[name])).toEqual(rows.get(name));
  });

  it('can be chosen by name over /admin/policy and named back', () => {
    for (const name of presetNames) {
      const named = applyPolicyUpdate(presets.safe, { preset: name });
      expect(named.preset).toBe(name);
      expect(named.policy).toEqual(presets[name]);
    }
  });
});

import { describe, expect, it } from 'vitest';
import { prometheusDir, requireBinary } from '../support/prometheus.ts';
import { run } from './compose-fixtures.ts';

describe('Prometheus configuration and rules (promtool from Debian’s prometheus package)', () => {
  const promtool = () => requireBinary('promtool');

  it('passes promtool check config and check rules', async () => {
    const config = await run(promtool(), ['check', 'config', 'prometheus.yml'], {
      cwd: prometheusDir,
    });
    expect(config.stdout).toContain('SUCCESS: 2 rule files found');
    const rules = await run(
      promtool(),
      ['check', 'rules', 'rules/recording.yml', 'rules/alerts.yml'],
      {
        cwd: prometheusDir,
      },
    );
    expect(rules.stdout).toMatch(
      /SUCCESS: 18 rules found[\s\S]*SUCCESS: 4 rules found|SUCCESS: 4 rules found[\s\S]*SUCCESS: 18 rules found/,
    );
  });

  it('passes its rule unit tests: each alert fires when it should and stays quiet otherwise', async () => {
    const result = await run(promtool(), ['test', 'rules', 'tests/rules.test.yml'], {
      cwd: prometheusDir,
    });
    expect(result.stdout).toContain('SUCCESS');
  });
});

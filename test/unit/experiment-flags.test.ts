import { describe, expect, it } from 'vitest';
import { runExperimentCommand } from '../../load/cli/experiment.ts';

/** `cascade-lab experiment` with these flags: its exit code and what it said, before it starts anything. */
async function experiment(options: Parameters<typeof runExperimentCommand>[1]) {
  let stderr = '';
  const code = await runExperimentCommand('scenarios/seed.yaml', options, {
    out: () => undefined,
    err: (text) => (stderr += text),
    interactive: false,
  });
  return { code, lines: stderr.split('\n').filter(Boolean) };
}

describe('cascade-lab experiment, before it starts anything', () => {
  it('names every problem with --urls at once', async () => {
    expect(await experiment({ urls: 'gateway=ftp://x,cache=http://127.0.0.1:1' })).toEqual({
      code: 2,
      lines: [
        'cascade-lab experiment: --urls: gateway needs an http(s) URL, got "ftp://x"',
        'cascade-lab experiment: --urls: "cache" is not a service (downstream, gateway, producer, worker)',
        'cascade-lab experiment: --urls: downstream=URL is missing',
        'cascade-lab experiment: --urls: producer=URL is missing',
        'cascade-lab experiment: --urls: worker=URL is missing',
      ],
    });
  });

  it('refuses a --generators that is not a small positive integer, and a bad --repeat with it', async () => {
    expect(await experiment({ generators: '0', repeat: '0' })).toEqual({
      code: 2,
      lines: [
        'cascade-lab experiment: --repeat: must be an integer from 1 to 50 (got "0")',
        'cascade-lab experiment: --generators: must be an integer from 1 to 64 (got "0")',
      ],
    });
  });
});

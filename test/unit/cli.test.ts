import { describe, expect, it } from 'vitest';
import { type AnyCommand, nearest, parseCommandLine } from '../../load/cli/command.ts';
import { commands } from '../../load/cli/commands.ts';
import { commandHelp } from '../../load/cli/help.ts';
import { sectionOf, sections } from '../../scripts/docs.ts';

const command = (name: string) => commands.find((candidate) => candidate.name === name)!;
const problemOf = (name: string, argv: string[]) => {
  const parsed = parseCommandLine(command(name), argv);
  return 'problem' in parsed ? parsed.problem : undefined;
};

describe('the command line', () => {
  it('refuses a misspelt flag, naming it and the nearest valid one', () => {
    expect(problemOf('load', ['--target', 'rpc', '--segmnet', '0/2'])).toBe(
      'unknown flag --segmnet; did you mean --segment?',
    );
    expect(problemOf('experiment', ['s.yaml', '--time-scael', '4'])).toBe(
      'unknown flag --time-scael; did you mean --time-scale?',
    );
    // Another command's flag is unknown here; when nothing is near, the valid ones are listed.
    expect(problemOf('merge', ['--generators', '2'])).toMatch(
      /^unknown flag --generators; its flags: --results-redis, --run-id, --wait, /,
    );
    expect(problemOf('up', ['--seed', '1'])).toBe('unknown flag --seed; it takes no flags');
  });

  it('names a flag without its value, a switch given one, a missing or extra argument', () => {
    expect(problemOf('load', ['--target'])).toBe(
      '--target needs a value: --target rpc|events|http',
    );
    expect(problemOf('dlq', ['redrive', '--all=yes'])).toBe('--all takes no value');
    expect(problemOf('experiment', [])).toBe('missing <scenario.yaml>');
    expect(problemOf('experiment', ['a.yaml', 'b.yaml'])).toBe('unexpected argument "b.yaml"');
  });

  it('parses each command’s own flags, repeated ones as lists', () => {
    expect(
      parseCommandLine(command('merge'), [
        'a.json',
        'b.json',
        '--threshold',
        'x',
        '--threshold',
        'y',
      ]),
    ).toEqual({ args: ['a.json', 'b.json'], values: { threshold: ['x', 'y'] } });
    expect(parseCommandLine(command('dlq'), ['redrive', '--all', '--dry-run'])).toEqual({
      args: ['redrive'],
      values: { all: true, 'dry-run': true },
    });
  });

  it('suggests only what is near enough to be a slip', () => {
    expect(nearest('segmnet', ['segment', 'start-at'])).toBe('segment');
    expect(nearest('bogus', ['segment', 'start-at'])).toBeUndefined();
  });

  it.each(commands.map((c): [string, AnyCommand] => [c.name, c]))(
    '%s: every flag has its help, shown by --help',
    (_name, each) => {
      const help = commandHelp(each);
      expect(help).toContain(`Usage: cascade-lab ${each.usage[0]!}`);
      for (const [flag, spec] of Object.entries(each.flags)) {
        expect(spec.help.length, flag).toBeGreaterThan(10);
        expect(help).toContain(`--${flag}`);
      }
    },
  );

  it('keeps the README’s list of commands and the reference’s command line as the definitions make them', async () => {
    for (const { file, marker, text } of sections()) {
      const { current, wanted } = await sectionOf(file, marker, text);
      expect(current === wanted, `${file} is stale: run npm run docs`).toBe(true);
    }
  });
});

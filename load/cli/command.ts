import { parseArgs } from 'node:util';
import { closest, distance } from 'fastest-levenshtein';
import type { CliEnv } from './env.ts';

/** One flag of a command: its help is the one text the usage, `--help` and the docs show. */
export interface Flag {
  type: 'string' | 'boolean';
  /** What its value is called in help (`--out DIR`). */
  value?: string;
  /** Given more than once, each value kept. */
  multiple?: boolean;
  help: string;
}

export type Flags = Record<string, Flag>;

/** The flags as parsed: a string (or strings) for a valued flag, true for a switch. */
export type Values<F extends Flags> = {
  [K in keyof F]?: F[K]['type'] extends 'boolean'
    ? boolean
    : F[K]['multiple'] extends true
      ? string[]
      : string;
};

export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
  /** stderr is a terminal: progress lines are rewritten in place. */
  interactive: boolean;
}

/**
 * A command: its name, how it is called, what it does, the flags it takes and nothing
 * else (an unknown flag is an error), and what it runs. The help text, the README's list
 * and docs/reference.md are made from these definitions (cli/help.ts).
 */
export interface Command<F extends Flags = Flags> {
  name: string;
  /** The synopsis, each line after `cascade-lab `. */
  usage: string[];
  /** One line, for the list of commands. */
  summary: string;
  /** What it does, in a few lines of prose. */
  description: string;
  flags: F;
  /** How many arguments besides the flags it takes. */
  args: { min: number; max: number };
  run(input: { values: Values<F>; args: string[]; io: Io; env: () => CliEnv }): Promise<number>;
}

/** A command with its flags' types forgotten: what the dispatcher holds. */
export type AnyCommand = Command<Flags>;

export const defineCommand = <F extends Flags>(command: Command<F>): AnyCommand => command;

/** The flag nearest to `typed` among `known`, if it is near enough to be a slip. */
export function nearest(typed: string, known: string[]): string | undefined {
  if (known.length === 0) return undefined;
  const best = closest(typed, known);
  return distance(typed, best) <= Math.max(2, Math.floor(best.length / 3)) ? best : undefined;
}

const flagOf = (message: string) => /'(-{1,2}[^' ]+)/.exec(message)?.[1];

/**
 * The command line after the command's name, parsed strictly against its own flags: the
 * values and arguments, or the one problem, worded for a person (an unknown flag with the
 * nearest valid one: `unknown flag --segmnet; did you mean --segment?`).
 */
export function parseCommandLine(
  command: AnyCommand,
  argv: string[],
): { values: Values<Flags>; args: string[] } | { problem: string } {
  const options = Object.fromEntries(
    Object.entries(command.flags).map(([name, flag]) => [
      name,
      { type: flag.type, ...(flag.multiple ? { multiple: true } : {}) },
    ]),
  );
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (error) {
    const { code, message } = error as { code?: string; message: string };
    const flag = flagOf(message) ?? '';
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      const known = Object.keys(command.flags);
      const guess = nearest(flag.replace(/^-+/, ''), known);
      return {
        problem: guess
          ? `unknown flag ${flag}; did you mean --${guess}?`
          : `unknown flag ${flag}; ${known.length ? `its flags: ${known.map((name) => `--${name}`).join(', ')}` : 'it takes no flags'}`,
      };
    }
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      const name = flag.replace(/^-+/, '').split('=')[0]!;
      const spec = command.flags[name];
      return {
        problem:
          spec?.type === 'boolean'
            ? `--${name} takes no value`
            : `--${name} needs a value: --${name} ${spec?.value ?? 'VALUE'}`,
      };
    }
    return { problem: message };
  }
  const args = parsed.positionals;
  if (args.length < command.args.min || args.length > command.args.max)
    return {
      problem:
        args.length < command.args.min
          ? `missing ${
              command.usage[0]!.split(' ')
                .slice(1)
                .find((word) => word.startsWith('<')) ?? 'an argument'
            }`
          : `unexpected argument "${args[command.args.max]}"`,
    };
  return { values: parsed.values as Values<Flags>, args };
}

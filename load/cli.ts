#!/usr/bin/env node
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../services/shared/config.ts';
import { stopLiveStacks } from './stack/stack.ts';
import { nearest, parseCommandLine } from './cli/command.ts';
import { commands } from './cli/commands.ts';
import { type CliEnv, loadCliEnv } from './cli/env.ts';
import { commandHelp, overallHelp } from './cli/help.ts';
import { keepRunning } from './cli/serve.ts';

/** The package's version, found by walking up from this file (it runs from load/ and from dist/load/). */
function version(): string {
  for (let dir = import.meta.dirname; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (existsSync(file)) {
      return String((JSON.parse(readFileSync(file, 'utf8')) as { version: unknown }).version);
    }
  }
  return 'unknown';
}

/**
 * Ctrl-C (or SIGTERM) during a run: stop the stacks this process started, so no service or
 * redis-server outlives it, and exit 130. A sweep keeps the cells it finished.
 */
function stopStacksOnInterrupt(err: (text: string) => void, command: string): void {
  const stop = (signal: NodeJS.Signals) => {
    err(
      `\n${signal}: stopping the services${command === 'sweep' ? '; the cells finished so far are kept, and the same command resumes' : ''}\n`,
    );
    void stopLiveStacks().finally(() => process.exit(130));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

/** Exit 2 with one line: the CLI was called wrongly. */
class UsageError extends Error {}

async function main(argv: string[]): Promise<number> {
  const out = (text: string) => process.stdout.write(text);
  const err = (text: string) => process.stderr.write(text);
  const [name, ...rest] = argv;
  if (name === '--version' || name === '-v') {
    out(`${version()}\n`);
    return 0;
  }
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    const about = commands.find((command) => command.name === rest[0]);
    out(about ? commandHelp(about) : overallHelp(commands));
    return 0;
  }
  const command = commands.find((candidate) => candidate.name === name);
  if (!command) {
    const guess = nearest(
      name,
      commands.map((candidate) => candidate.name),
    );
    err(
      `cascade-lab: unknown command "${name}"${guess ? `; did you mean ${guess}?` : ''} (cascade-lab help lists them)\n`,
    );
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    out(commandHelp(command));
    return 0;
  }
  const parsed = parseCommandLine(command, rest);
  if ('problem' in parsed) {
    err(`cascade-lab ${command.name}: ${parsed.problem} (cascade-lab ${command.name} --help)\n`);
    return 2;
  }
  let env: CliEnv | undefined;
  const readEnv = () => {
    try {
      return (env ??= loadCliEnv(process.env));
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      throw new UsageError(`cascade-lab: ${error.message}`);
    }
  };
  if (['experiment', 'sweep', 'tune'].includes(command.name))
    stopStacksOnInterrupt(err, command.name);
  try {
    return await command.run({
      ...parsed,
      io: { out, err, interactive: process.stderr.isTTY === true },
      env: readEnv,
    });
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    err(`${error.message}\n`);
    return 2;
  }
}

const code = await main(process.argv.slice(2));
if (code !== keepRunning) process.exitCode = code;

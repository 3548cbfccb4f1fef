import type { AnyCommand, Flag } from './command.ts';

const flagLabel = (name: string, flag: Flag) =>
  `--${name}${flag.type === 'string' ? ` ${flag.value ?? 'VALUE'}` : ''}${flag.multiple ? ' …' : ''}`;

/** Text wrapped to `width`, each line after the first indented by `indent`. */
function wrap(text: string, width: number, indent: number): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  lines.push(line);
  return lines.join(`\n${' '.repeat(indent)}`);
}

/** `cascade-lab <command> --help`. */
export function commandHelp(command: AnyCommand): string {
  const usage = command.usage.map(
    (line, i) => `${i === 0 ? 'Usage: ' : '       '}cascade-lab ${line}`,
  );
  const labels = Object.entries(command.flags).map(([name, flag]) => flagLabel(name, flag));
  const column = Math.min(28, Math.max(0, ...labels.map((label) => label.length)) + 2);
  const flags = Object.values(command.flags).map((flag, i) => {
    const label = labels[i]!;
    const text = wrap(flag.help, 96 - column - 2, column + 2);
    return label.length + 2 > column
      ? `  ${label}\n${' '.repeat(column + 2)}${text}`
      : `  ${label.padEnd(column)}${text}`;
  });
  return [
    ...usage,
    '',
    wrap(command.description, 94, 0),
    ...(flags.length ? ['', 'Flags:', ...flags] : []),
    '',
  ].join('\n');
}

/** `cascade-lab help`: every command, how it is called and what it is for. */
export function commandList(commands: AnyCommand[]): string {
  return commands
    .map((command) =>
      [
        ...command.usage.map((line) => `cascade-lab ${line}`),
        `    ${wrap(command.summary, 90, 4)}`,
      ].join('\n'),
    )
    .join('\n');
}

export function overallHelp(commands: AnyCommand[]): string {
  return `cascade-lab — see how retries, timeouts, circuit breakers, bulkheads and queues behave
under bursty load and injected faults, over real HTTP.

${commandList(commands)}
cascade-lab help [command]     this text, or one command's flags
cascade-lab --version          the version

Environment (every command): docs/reference.md › Variables. More: cascade-lab <command> --help
`;
}

/** The CLI section of docs/reference.md, made from the same definitions as `--help`. */
export function cliMarkdown(commands: AnyCommand[]): string {
  return commands
    .map((command) => {
      const flags = Object.entries(command.flags).map(
        ([name, flag]) =>
          // A `|` would end the table's cell, in a code span too.
          `| \`${flagLabel(name, flag).replaceAll('|', '\\|')}\` | ${flag.help.replaceAll('|', '\\|').replace(/\s+/g, ' ')} |`,
      );
      return [
        `### \`cascade-lab ${command.name}\``,
        '',
        '```',
        ...command.usage.map((line) => `cascade-lab ${line}`),
        '```',
        '',
        command.description.replace(/\s+/g, ' '),
        ...(flags.length ? ['', '| flag | what it does |', '| --- | --- |', ...flags] : []),
        '',
      ].join('\n');
    })
    .join('\n');
}

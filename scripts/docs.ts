/**
 * The parts of the docs made from the code: the README's list of commands and the CLI
 * section of docs/reference.md, from the commands' own definitions (load/cli/), and the
 * table's glossary in docs/experiments.md (load/report/columns.ts). `npm run docs` writes them; test/unit/cli.test.ts fails when they differ from what it would write.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { format, resolveConfig } from 'prettier';
import { commands } from '../load/cli/commands.ts';
import { cliMarkdown, commandList } from '../load/cli/help.ts';
import { columns } from '../load/report/columns.ts';

const root = path.resolve(import.meta.dirname, '..');

/** Each generated section: its file, the marker around it, and what belongs there. */
export const sections = () => [
  {
    file: 'README.md',
    marker: 'commands',
    text: `\`\`\`\n${commandList(commands)}\n\`\`\``,
  },
  { file: 'docs/reference.md', marker: 'cli', text: cliMarkdown(commands).trimEnd() },
  {
    file: 'docs/experiments.md',
    marker: 'columns',
    text: [
      '| column | what it is |',
      '| --- | --- |',
      ...columns.map(({ title, meaning }) => `| \`${title}\` | ${meaning} |`),
    ].join('\n'),
  },
];

const pattern = (marker: string) =>
  new RegExp(`(<!-- ${marker}: made by npm run docs -->\\n)[\\s\\S]*?(<!-- /${marker} -->)`);

/** The file as it is, and as it would be with its section made anew (formatted as lint wants it). */
export async function sectionOf(file: string, marker: string, text: string) {
  const full = path.join(root, file);
  const current = readFileSync(full, 'utf8');
  if (!pattern(marker).test(current)) throw new Error(`${file} has no ${marker} markers`);
  const replaced = current.replace(pattern(marker), `$1\n${text}\n\n$2`);
  const wanted = await format(replaced, { ...(await resolveConfig(full)), filepath: full });
  return { current, wanted };
}

if (process.argv[1] === import.meta.filename)
  for (const { file, marker, text } of sections()) {
    const { current, wanted } = await sectionOf(file, marker, text);
    if (current !== wanted) writeFileSync(path.join(root, file), wanted);
    process.stdout.write(`${file}: ${current === wanted ? 'up to date' : 'rewritten'}\n`);
  }

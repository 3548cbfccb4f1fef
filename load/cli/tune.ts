import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { timed, Timings } from '../experiment/timings.ts';
import { formatTune } from '../tune/report.ts';
import { writeTunePage } from '../tune/page.ts';
import { runTune } from '../tune/run-tune.ts';
import { TuneError, type TuneProgress } from '../tune/search.ts';
import { defineCommand, type Io } from './command.ts';
import { parseManyRunFlags, readScenario, runFlags, runOptionsOf } from './run-options.ts';
import { clock } from '../report/progress.ts';

/** `30m`, `90s`, `1h`, `1.5h`; a bare number is minutes. */
export function parseDuration(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)(s|m|h)?$/.exec(text.trim());
  if (!match) return undefined;
  const unit = { s: 1000, m: 60_000, h: 3_600_000 }[(match[2] ?? 'm') as 's' | 'm' | 'h'];
  const ms = Number(match[1]) * unit;
  return ms > 0 ? ms : undefined;
}

export const formatTuneProgress = (p: TuneProgress) =>
  `rung ${p.rung}/${p.rungs} · ${p.candidate}${p.repeats > 1 ? ` repeat ${p.repeat + 1}/${p.repeats}` : ''} · run ${p.runsDone + 1}/${p.runsPlanned} · ${clock(p.elapsedMs)} elapsed${p.leftMs === null ? '' : `, about ${clock(p.leftMs)} left`}`;

/** `cascade-lab tune`: answers the exit code. */
export async function runTuneCommand(
  file: string,
  options: ReturnType<typeof runOptionsOf> & { budget?: string | undefined },
  { out, err, interactive }: Io,
): Promise<number> {
  const flags = parseManyRunFlags(options, 'for every rung');
  const { urls, problems } = flags;
  if (options.repeat !== undefined)
    problems.push("--repeat: a tune's repeats are its rungs' (tune.rungs in the scenario)");
  const budgetMs = options.budget === undefined ? undefined : parseDuration(options.budget);
  if (options.budget !== undefined && budgetMs === undefined)
    problems.push(`--budget: a duration such as 20m, 90s or 1h (got "${options.budget}")`);
  if (problems.length > 0) {
    err(problems.map((problem) => `cascade-lab tune: ${problem}\n`).join(''));
    return 2;
  }
  const scenario = readScenario(file, err);
  if (!scenario) return 2;
  if (!scenario.tune) {
    err(
      `cascade-lab tune: ${file} has no tune block (the policy fields to search: docs/tune.md)\n`,
    );
    return 2;
  }
  const outDir =
    options.outDir ??
    path.join('reports', `${scenario.name}-tune-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  const timings = options.timings ? new Timings() : undefined;
  let result;
  try {
    result = await runTune(scenario, {
      outDir,
      budgetMs,
      urls,
      adminToken: options.adminToken,
      redisUrl: options.redisUrl,
      redisClusterNodes: options.redisClusterNodes,
      freshStacks: options.freshStacks,
      timings,
      timeScale: flags.timeScale,
      onNote: err,
      onTuneProgress: (progress) =>
        err(
          `${interactive ? '\r\u001b[K' : ''}${formatTuneProgress(progress)}${interactive ? '' : '\n'}`,
        ),
    });
  } catch (error) {
    if (!(error instanceof TuneError)) throw error;
    err(
      `${scenario.name}: cannot tune:\n${error.problems.map((line) => `  ${line}`).join('\n')}\n`,
    );
    return 2;
  }
  if (interactive) err('\r\u001b[K');
  const text = formatTune(result);
  const files = await timed(timings, 'report', async () => {
    mkdirSync(outDir, { recursive: true });
    writeFileSync(path.join(outDir, 'tune.json'), `${JSON.stringify(result, null, 2)}\n`);
    writeFileSync(path.join(outDir, 'tune.md'), `\`\`\`\n${text}\`\`\`\n`);
    return [
      path.join(outDir, 'tune.json'),
      path.join(outDir, 'tune.md'),
      writeTunePage(result, outDir),
    ];
  });
  out(text);
  out(`report: ${files.join(', ')}\n`);
  if (timings) err(timings.format());
  return result.answer ? 0 : 1;
}

export const tuneCommand = defineCommand({
  name: 'tune',
  usage: ['tune <scenario.yaml> [--budget 30m] [--out DIR] [--time-scale K] [--urls LIST]'],
  summary:
    'which policy? the Pareto front of goodput, p99 and amplification over the fields of tune:',
  description:
    "Searches the policy fields of the scenario's tune block by successive halving: every candidate (the policy as given among them) on one short repeat, the best third promoted to more repeats, and so on (tune.rungs). Prints every candidate of every rung (the last with intervals), the Pareto front, the recommended policy (the knee) and the runner-up with their differences, the policy as scenario YAML and as PUT /admin/policy bodies, and, with tune.generalise, the recommendation, the policy as given and safe side by side on a load the search never saw. Writes tune.json, tune.md and report.html, and each rung's experiment under rungs/; the same command with the same --out reuses the rungs it finished. Exits 1 when no candidate met the constraints.",
  flags: {
    budget: {
      type: 'string',
      value: 'DURATION',
      help: 'stop before a rung that would end past it: 20m, 90s, 1h (default: none, every rung runs)',
    },
    ...runFlags,
    out: {
      type: 'string',
      value: 'DIR',
      help: "the tune's folder (default reports/<scenario>-tune-<time>); give the same one again to reuse its finished rungs",
    },
    'time-scale': {
      type: 'string',
      value: 'K',
      help: "every time constant × K (default: the scenario's; auto is not taken here)",
    },
  },
  args: { min: 1, max: 1 },
  run: ({ values, args, io, env }) =>
    runTuneCommand(args[0]!, { ...runOptionsOf(values, env()), budget: values.budget }, io),
});

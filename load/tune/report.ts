import { fmt } from '../report/columns.ts';
import { comparisonLine, formatTable } from '../report/summary.ts';
import { textTable } from '../report/text-table.ts';
import type { ObjectiveName } from '../scenario/tune-spec.ts';
import { kneeRule } from './answer.ts';
import type { TuneResult } from './run-tune.ts';

const arrows: Record<ObjectiveName, string> = { goodput: '↑', p99: '↓', amplification: '↓' };
const fields: Record<ObjectiveName, string> = {
  goodput: 'goodputRps',
  p99: 'p99Ms',
  amplification: 'amplification',
};
const titles: Record<ObjectiveName, string> = {
  goodput: 'goodput/s',
  p99: 'p99 ms',
  amplification: 'amplif.',
};

/** `median [low–high]` of an objective, the interval when there were repeats. */
export function figure(
  evaluation: {
    objectives: Record<ObjectiveName, number>;
    intervals: Record<string, [number, number]>;
  },
  name: ObjectiveName,
): string {
  const interval = evaluation.intervals[fields[name]];
  const value = fmt(evaluation.objectives[name]);
  return interval ? `${value} [${fmt(interval[0])}–${fmt(interval[1])}]` : value;
}

/** What `tune` prints and writes to tune.md: the rungs, the front, the answer and how to apply it. */
export function formatTune(result: TuneResult): string {
  const labels = new Map(result.candidates.map((c) => [c.id, c.label]));
  const lines: string[] = [
    `tune ${result.scenario} / ${result.run} (${result.target}): ${result.objectives.map((name) => `${name} ${arrows[name]}`).join(' · ')}; time scale ${result.timeScale}; ${result.candidates.length} candidates; ${(result.elapsedMs / 60_000).toFixed(1)} min`,
  ];
  if (result.stoppedEarly) lines.push(`stopped: ${result.stoppedEarly}`);
  const answer = result.answer;
  const onFront = new Set(answer?.front.map((e) => e.id) ?? []);
  const mark = (e: TuneResult['rungs'][number]['evaluations'][number], last: boolean) =>
    e.infeasible
      ? 'x'
      : !last
        ? ''
        : e.id === answer?.recommended.id
          ? '★'
          : onFront.has(e.id)
            ? '*'
            : '';
  // Every candidate evaluated, rung by rung, best first (median [95 % interval]).
  result.rungs.forEach((rung, index) => {
    const next = result.rungs[index + 1];
    const last = index === result.rungs.length - 1;
    lines.push(
      '',
      `rung ${index + 1}: ${rung.evaluations.length} candidates × ${rung.repeats} repeat${rung.repeats > 1 ? 's' : ''}${next ? `, best first → kept ${next.evaluations.map((e) => e.id).join(', ')}` : last && answer ? ' (* on the front, ★ recommended)' : ''}; its runs: rungs/${index + 1}/report.html`,
      textTable(
        [
          ['', 'candidate', 'policy', ...result.objectives.map((name) => titles[name])],
          ...rung.evaluations.map((e) => [
            mark(e, last),
            e.id,
            `${labels.get(e.id) ?? ''}${e.infeasible ? ` (off: ${e.infeasible})` : ''}`,
            ...result.objectives.map((name) => figure(e, name)),
          ]),
        ],
        3,
      ),
    );
  });
  if (!answer)
    return `${[...lines, '', 'no answer: no candidate met the constraints'].join('\n')}\n`;
  lines.push(
    '',
    `recommended: ${answer.recommended.id} (${labels.get(answer.recommended.id)}), by ${kneeRule}.`,
  );
  if (answer.runnerUp)
    lines.push(`runner-up: ${answer.runnerUp.id} (${labels.get(answer.runnerUp.id)}).`);
  lines.push(...answer.comparisons.map((comparison) => `  ${comparisonLine(comparison)}`));
  lines.push(
    answer.given.evaluation === null
      ? 'the policy as given was not promoted to the last rung: others beat it earlier.'
      : answer.given.onFront
        ? 'the policy as given is on the front: no candidate beats it on every objective.'
        : 'the policy as given is not on the front: a candidate on it is at least as good on every objective and better on one.',
    '',
    'to use it, in a scenario:',
    answer.apply.yaml.trimEnd().replace(/^/gm, '  '),
    'or on a running stack:',
    ...answer.apply.puts.map(
      ({ service, body }) =>
        `  curl -X PUT "$${service.toUpperCase()}/admin/policy" -H 'content-type: application/json' -d '${JSON.stringify(body)}'`,
    ),
  );
  if (result.generalisation)
    lines.push(
      '',
      `does it generalise? on a load the search never saw (${result.generalisation.scenario.load === 'unknown' ? '?' : result.generalisation.scenario.load.kind}), ${result.generalisation.repeat} repeat${result.generalisation.repeat > 1 ? 's' : ''}:`,
      formatTable(result.generalisation).trimEnd(),
      ...result.generalisation.comparisons
        .filter(
          (c) =>
            c.a === 'recommended' && ['goodputRps', 'p99Ms', 'amplification'].includes(c.field),
        )
        .map((c) => `  ${comparisonLine(c)}`),
    );
  return `${lines.join('\n')}\n`;
}

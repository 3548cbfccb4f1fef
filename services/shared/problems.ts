/**
 * An error that lists every problem found, one line each: bad configuration, a bad scenario,
 * a sweep or a merge that cannot run. `problems` is for code; the message is for people —
 * the heading (when given) on its own line, then each problem indented under it.
 */
export class ProblemsError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[], heading?: string) {
    super(
      heading === undefined
        ? problems.join('\n')
        : `${heading}:\n${problems.map((line) => `  ${line}`).join('\n')}`,
    );
    this.name = new.target.name;
    this.problems = problems;
  }
}

import type { Reporter, TestModule } from 'vitest/node';

/**
 * A reporter that says, at the end, how long each project took from its first file's start
 * to its last file's end (they run one group after another), so CI's log states the time
 * of each part of the suite.
 */
export default class ProjectTimings implements Reporter {
  readonly #spans = new Map<string, { start: number; end: number }>();

  onTestModuleStart(module: TestModule): void {
    const name = module.project.name;
    const span = this.#spans.get(name);
    if (span) span.start = Math.min(span.start, Date.now());
    else this.#spans.set(name, { start: Date.now(), end: Date.now() });
  }

  onTestModuleEnd(module: TestModule): void {
    const span = this.#spans.get(module.project.name);
    if (span) span.end = Math.max(span.end, Date.now());
  }

  onTestRunEnd(): void {
    const parts = [...this.#spans].map(
      ([name, { start, end }]) => `${name} ${Math.round((end - start) / 1000)} s`,
    );
    if (parts.length > 0) process.stdout.write(`tests by project: ${parts.join(', ')}\n`);
  }
}

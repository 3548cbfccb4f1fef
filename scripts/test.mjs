#!/usr/bin/env node
// `npm test`: what CI runs, one step after another, each timed: the prerequisites (apt
// packages and, as root, the container engine and its images), type-check, lint, build,
// then every test (arguments after `npm test --` go to vitest). Stops at the first failure.
import { spawnSync } from 'node:child_process';

const vitest = ['node_modules/.bin/vitest', 'run', '--reporter=default'];
const steps = [
  ['prerequisites', ['node', 'scripts/test-prerequisites.mjs']],
  ['type-check', ['npm', 'run', '-s', 'typecheck']],
  ['lint', ['npm', 'run', '-s', 'lint']],
  // Type-checked a step before: the build only emits.
  ['build', ['npm', 'run', '-s', 'build:emit']],
  ['tests', [...vitest, '--reporter=./test/support/project-timings.ts', ...process.argv.slice(2)]],
];

const took = [];
for (const [name, [command, ...args]] of steps) {
  const started = Date.now();
  const { status, signal } = spawnSync(command, args, { stdio: 'inherit' });
  took.push(`${name} ${Math.round((Date.now() - started) / 1000)} s`);
  if (status !== 0) {
    process.stderr.write(
      `npm test: ${name} failed (${signal ?? `exit ${status}`}); ${took.join(', ')}\n`,
    );
    process.exit(status ?? 1);
  }
}
process.stdout.write(`npm test: ${took.join(', ')}\n`);

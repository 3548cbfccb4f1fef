#!/usr/bin/env node
// `npm run demo [-- flags]`: the JavaScript emitted without type-checking (scripts/emit.mjs;
// the type-check is `npm run typecheck`'s job, and npm test's first step), then the seed
// scenario with the wall time of each phase, the build's first. Flags go to the experiment.
import { spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';

const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;
const started = performance.now();
const node = (args) => spawnSync(process.execPath, args, { stdio: 'inherit' });
const build = node(['scripts/emit.mjs']);
if (build.status !== 0) process.exit(build.status ?? 1);
process.stderr.write(`build (emit only): ${seconds(performance.now() - started)}\n`);
const run = node([
  'dist/load/cli.js',
  'experiment',
  'scenarios/seed.yaml',
  '--timings',
  ...process.argv.slice(2),
]);
process.stderr.write(
  `demo: ${seconds(performance.now() - started)} of wall time, the build included\n`,
);
process.exit(run.status ?? 1);

/**
 * How load/ is layered (CONTRIBUTING.md › Layout), checked by `npm run lint`: the commands
 * on top; experiment, sweep and report below them; distributed below experiment; generator,
 * stack, scenario and schedule at the bottom, above the services' own schemas. Imports
 * flow down only, no command imports another, and nothing imports in a circle.
 */
const commands = '^load/cli/(up|load|experiment|sweep|merge|dlq|serve)[.]ts$';
const below = (name, from, forbidden, comment) => ({
  name,
  comment,
  severity: 'error',
  from: { path: `^load/(${from})/` },
  to: { path: `^load/(${forbidden})(/|[.]ts$)` },
});

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'an import cycle: the modules cannot be understood (or loaded) one before the other',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-command-imports-a-command',
      comment: 'what two commands share lives below them, not in one of them',
      severity: 'error',
      from: { path: commands },
      to: { path: commands },
    },
    {
      name: 'nothing-imports-the-cli',
      comment: 'the commands are the top layer of load/ (scripts/docs.ts reads their definitions)',
      severity: 'error',
      from: { path: '^load/', pathNot: '^load/cli([.]ts$|/)' },
      to: { path: '^load/cli([.]ts$|/)' },
    },
    below(
      'bottom-layer-imports-nothing-above',
      'generator|stack|scenario|schedule',
      'experiment|sweep|distributed|report',
      'generator, stack, scenario and schedule are what everything else is made of',
    ),
    below(
      'distributed-below-experiment',
      'distributed',
      'experiment|sweep|report',
      'distributed splits and merges load; experiments use it',
    ),
    below(
      'experiment-below-report-and-sweep',
      'experiment',
      'sweep|report',
      'an experiment produces results; reports and sweeps use them',
    ),
    below('report-below-sweep', 'report', 'sweep', 'a sweep writes its reports with report/'),
    {
      name: 'services-stand-alone',
      comment: 'a service never imports the load tooling, the tests or the benchmarks',
      severity: 'error',
      from: { path: '^services/' },
      to: { path: '^(load|test|bench|dashboards|scripts)/' },
    },
  ],
  options: {
    tsPreCompilationDeps: true,
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist)/' },
  },
};

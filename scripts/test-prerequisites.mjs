#!/usr/bin/env node
// `npm test` runs this first: the suite needs real Redis, Prometheus and Chromium.
// As root on Debian/Ubuntu it installs what is missing with apt (as .ci/run always did);
// otherwise it stops at once, naming exactly what to install, instead of failing minutes later.
// Plain .mjs with no dependencies: it must run before anything is built.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** What the suite needs: the command it looks for, and the Debian package that has it. */
const needs = [
  {
    command: 'redis-server',
    pkg: 'redis-server',
    why: 'the event-path tests start their own Redis',
  },
  { command: 'prometheus', pkg: 'prometheus', why: 'the observability test scrapes the stack' },
  { command: 'promtool', pkg: 'prometheus', why: 'the recording and alert rules are unit-tested' },
  {
    command: 'redis-cli',
    pkg: 'redis-tools',
    why: 'the Redis Cluster tests join their own cluster with redis-cli --cluster create',
  },
  {
    command: 'chromium',
    pkg: 'chromium',
    why: 'the report is rendered in a browser',
    path: '/usr/bin/chromium',
  },
];

const onPath = (command) =>
  spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
const present = (need) => (need.path ? existsSync(need.path) : onPath(need.command));

const missing = needs.filter((need) => !present(need));
if (missing.length === 0) process.exit(0);

const packages = [...new Set(missing.map((need) => need.pkg))];
const list = missing.map((need) => `  ${need.command} (${need.why})`).join('\n');
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
if (!isRoot || !onPath('apt-get')) {
  process.stderr.write(
    `npm test needs these, and they are missing:\n${list}\n` +
      `Install them (Debian/Ubuntu): sudo apt-get install -y ${packages.join(' ')}\n` +
      `or run npm test as root, which installs them with apt; then run npm test again.\n`,
  );
  process.exit(1);
}

process.stderr.write(`npm test: installing ${packages.join(', ')} with apt (missing:\n${list})\n`);
const apt = (args) =>
  execFileSync('apt-get', args, {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
apt(['update', '-qq']);
apt(['install', '-y', '-qq', ...packages]);
const still = needs.filter((need) => !present(need));
if (still.length > 0) {
  process.stderr.write(
    `apt installed ${packages.join(' ')}, yet still missing: ${still.map((n) => n.command).join(', ')}\n`,
  );
  process.exit(1);
}

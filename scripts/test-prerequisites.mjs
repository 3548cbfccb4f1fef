#!/usr/bin/env node
// `npm test` runs this first: the suite needs real Redis, Prometheus, Chromium and a container
// engine. As root on Debian/Ubuntu it installs what is missing with apt (as .ci/run always did)
// and runs scripts/container-engine.sh;
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
  { command: 'curl', pkg: 'curl', why: 'an oversized body is sent from another process' },
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

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const missing = needs.filter((need) => !present(need));
if (missing.length === 0) {
  ensureContainerEngine();
  process.exit(0);
}

const packages = [...new Set(missing.map((need) => need.pkg))];
const list = missing.map((need) => `  ${need.command} (${need.why})`).join('\n');
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
ensureContainerEngine();

/**
 * The compose test and the testcontainers suites need a container engine with Compose v2.
 * As root on Debian/Ubuntu, scripts/container-engine.sh makes sure of it every time (a few
 * seconds once it has run: it checks, it does not redo); otherwise one answering is enough,
 * and when none does this stops here, naming the command that installs one.
 */
function ensureContainerEngine() {
  if (isRoot && onPath('apt-get')) {
    const { status } = spawnSync('bash', ['scripts/container-engine.sh'], { stdio: 'inherit' });
    if (status !== 0) process.exit(status ?? 1);
    return;
  }
  const answers = (args) =>
    spawnSync('docker', args, { stdio: 'ignore', timeout: 30_000 }).status === 0;
  if (answers(['info']) && answers(['compose', 'version'])) return;
  process.stderr.write(
    'npm test needs a container engine with Compose v2 (the compose stack test, testcontainers), and none answers.\n' +
      'Debian/Ubuntu: sudo bash scripts/container-engine.sh (or run npm test as root, which runs it);\n' +
      'elsewhere: Docker Engine with Compose v2 (https://docs.docker.com/engine/install/).\n',
  );
  process.exit(1);
}

import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../support/processes.ts';

const run = promisify(execFile);

describe('npm test on a machine that lacks the binaries', () => {
  it('stops within seconds, naming what to install and how', async () => {
    // A PATH with node and sh only: redis-server, redis-cli, prometheus, promtool and apt-get are "missing".
    const bin = mkdtempSync(path.join(tmpdir(), 'cascade-path-'));
    symlinkSync(process.execPath, path.join(bin, 'node'));
    symlinkSync('/bin/sh', path.join(bin, 'sh'));
    const result = await run(process.execPath, ['scripts/test-prerequisites.mjs'], {
      cwd: repoRoot,
      env: { PATH: bin },
      timeout: 10_000,
    }).then(
      () => ({ code: 0, stderr: '' }),
      (error: { code: number; stderr: string }) => error,
    );
    expect(result.code).toBe(1);
    for (const command of ['redis-server', 'prometheus', 'promtool', 'redis-cli'])
      expect(result.stderr).toContain(`  ${command} (`);
    expect(result.stderr).toContain('sudo apt-get install -y redis-server prometheus redis-tools');
  });

  it('lets the suite run when everything is there: as root, after making sure of the container engine', async () => {
    const { stdout, stderr } = await run(process.execPath, ['scripts/test-prerequisites.mjs'], {
      cwd: repoRoot,
      timeout: 600_000,
    });
    const lines = (stdout + stderr).trim().split('\n');
    // As root it runs scripts/container-engine.sh (quiet apart from its own lines); else nothing.
    if (process.getuid?.() === 0) {
      expect(lines.every((line) => line.startsWith('container-engine: '))).toBe(true);
      expect(lines.at(-1)).toMatch(/^container-engine: (done in \d+ s|Docker .* nothing to do)/);
    } else expect(stdout + stderr).toBe('');
  });

  it('stops, naming the command that installs one, when it may not install and no engine answers', async () => {
    // Everything but docker on PATH, run as nobody: it may not install an engine itself.
    const bin = mkdtempSync(path.join(tmpdir(), 'cascade-path-'));
    symlinkSync(process.execPath, path.join(bin, 'node'));
    for (const command of ['sh', 'redis-server', 'redis-cli', 'prometheus', 'promtool', 'curl']) {
      const found = (await run('sh', ['-c', `command -v ${command}`])).stdout.trim();
      symlinkSync(found, path.join(bin, command));
    }
    chmodSync(bin, 0o755);
    const result = await run(
      '/usr/bin/setpriv',
      [
        '--reuid=65534',
        '--regid=65534',
        '--clear-groups',
        process.execPath,
        'scripts/test-prerequisites.mjs',
      ],
      { cwd: repoRoot, env: { PATH: bin }, timeout: 30_000 },
    ).then(
      () => ({ code: 0, stderr: '' }),
      (error: { code: number; stderr: string }) => error,
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('needs a container engine with Compose v2');
    expect(result.stderr).toContain('sudo bash scripts/container-engine.sh');
  });
});

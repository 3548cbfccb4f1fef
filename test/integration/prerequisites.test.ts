import { execFile } from 'node:child_process';
import { mkdtempSync, symlinkSync } from 'node:fs';
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

  it('says nothing and lets the suite run when everything is there', async () => {
    const { stdout, stderr } = await run(process.execPath, ['scripts/test-prerequisites.mjs'], {
      cwd: repoRoot,
    });
    expect(stdout + stderr).toBe('');
  });
});

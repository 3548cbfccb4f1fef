import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from './processes.ts';

const cli = path.join(repoRoot, 'dist/load/cli.js');

/** The newest modification time of the sources the build compiles. */
function newestSource(): { file: string; mtimeMs: number } {
  let newest = { file: '', mtimeMs: 0 };
  for (const root of ['load', 'services'])
    for (const entry of readdirSync(path.join(repoRoot, root), { recursive: true })) {
      const file = path.join(root, String(entry));
      if (!file.endsWith('.ts')) continue;
      const { mtimeMs } = statSync(path.join(repoRoot, file));
      if (mtimeMs > newest.mtimeMs) newest = { file, mtimeMs };
    }
  return newest;
}

/**
 * The CLI as it ships (dist/load/cli.js), for tests that run it as a process: it starts its
 * services from the build too, 2 s sooner per stack than through tsx, and spends the run's
 * CPU on the run. `npm test` builds first; a missing or older build fails here, by name.
 */
export function builtCli(): string {
  let built: number;
  try {
    built = statSync(cli).mtimeMs;
  } catch {
    throw new Error('dist/ is missing: run `npm run build:emit` first (`npm test` does)');
  }
  const newest = newestSource();
  if (newest.mtimeMs > built)
    throw new Error(
      `dist/ is older than ${newest.file}: run \`npm run build:emit\` first (\`npm test\` does)`,
    );
  return cli;
}

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { log } from './lib.ts';

const run = promisify(execFile);

const find = (command: string) =>
  run('sh', ['-c', `command -v ${command}`]).then(
    ({ stdout }) => stdout.trim() || undefined,
    () => undefined,
  );

/** The generator's peers, each a Debian package of the same name. */
export interface Peers {
  /** wrk: a closed loop at full speed, the ceiling. */
  wrk: string | undefined;
  /** hey: an evenly paced peer (a ticker per worker), for the CPU per request at a fixed rate. */
  hey: string | undefined;
}

/**
 * A peer tool, installed with Debian's package when it is missing and this runs as root;
 * otherwise the rows that need it say so and the generator is compared without it.
 */
async function ensureDebianTool(name: string, forWhat: string): Promise<string | undefined> {
  let path = await find(name);
  if (!path && process.getuid?.() === 0) {
    log(`${name} is missing: installing Debian's ${name} (apt-get install ${name})`);
    await run('sh', [
      '-c',
      `apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ${name}`,
    ]).catch((error: Error) =>
      log(`apt-get install ${name} failed: ${error.message.split('\n')[0]}`),
    );
    path = await find(name);
  }
  if (!path) log(`${name} is missing (apt-get install ${name}): ${forWhat} is not measured`);
  return path;
}

export async function ensurePeers(): Promise<Peers> {
  return {
    wrk: await ensureDebianTool('wrk', 'the full-speed reference'),
    hey: await ensureDebianTool('hey', 'the evenly paced comparison'),
  };
}

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { log } from './lib.ts';

const run = promisify(execFile);

const findWrk = () =>
  run('sh', ['-c', 'command -v wrk']).then(
    ({ stdout }) => stdout.trim() || undefined,
    () => undefined,
  );

/**
 * wrk, the generator's full-speed reference: installed with Debian's package when it is
 * missing and this runs as root; otherwise the generator is compared with autocannon only.
 */
export async function ensureWrk(): Promise<string | undefined> {
  let wrk = await findWrk();
  if (!wrk && process.getuid?.() === 0) {
    log("wrk is missing: installing Debian's wrk (apt-get install wrk)");
    await run('sh', [
      '-c',
      'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk',
    ]).catch((error: Error) => log(`apt-get install wrk failed: ${error.message.split('\n')[0]}`));
    wrk = await findWrk();
  }
  if (!wrk)
    log('wrk is missing (apt-get install wrk); the generator is compared with autocannon only');
  return wrk;
}

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** What to do when no engine answers: the one message every container test fails with. */
export const engineMissing =
  'no container engine answers: on Debian/Ubuntu run `sudo bash scripts/container-engine.sh` ' +
  '(podman with a Docker API at /var/run/docker.sock, Compose v2, and the images built locally ' +
  'where no registry answers; `npm test` runs it when run as root), or install Docker Engine ' +
  'with Compose v2 (https://docs.docker.com/engine/install/)';

let answers: Promise<boolean> | undefined;

/** Whether testcontainers finds a container runtime (asked once per process). */
export function engineAnswers(): Promise<boolean> {
  answers ??= import('testcontainers')
    .then(({ getContainerRuntimeClient }) => getContainerRuntimeClient())
    .then(
      () => true,
      () => false,
    );
  return answers;
}

/** Fails with `engineMissing` unless testcontainers and the docker CLI with Compose v2 answer. */
export async function requireEngine(): Promise<void> {
  if (!(await engineAnswers())) throw new Error(engineMissing);
  const compose = await run('docker', ['compose', 'version', '--short']).catch(() => undefined);
  if (!compose || !/^v?2\./.test(compose.stdout.trim()))
    throw new Error(`docker compose (v2) does not answer; ${engineMissing}`);
}

/** The runtime's handle on a container by id (dockerode's), for kill, start and pause. */
export async function containerById(id: string) {
  const { getContainerRuntimeClient } = await import('testcontainers');
  return (await getContainerRuntimeClient()).container.getById(id);
}

import { engineAnswers } from './containers.ts';

/**
 * vitest's global setup: Ryuk (testcontainers' reaper) cannot start where no registry
 * answers, so the tests stop their own containers; this removes any a failed test left,
 * of those testcontainers started during this run, and says how many.
 */
export default function setup() {
  const startedAt = Math.floor(Date.now() / 1000) - 1;
  return async function teardown() {
    if (!(await engineAnswers())) return;
    const { getContainerRuntimeClient } = await import('testcontainers');
    const client = await getContainerRuntimeClient();
    const left = (await client.container.list()).filter(
      (container) =>
        container.Labels['org.testcontainers'] === 'true' && container.Created >= startedAt,
    );
    for (const container of left)
      await client.container.getById(container.Id).remove({ force: true, v: true });
    if (left.length > 0)
      console.warn(`removed ${left.length} test container(s) that a test left running`);
  };
}

import { runService } from '../shared/run-service.ts';
import { loadWorkerEnv, toWorkerConfig } from './config.ts';
import { buildWorker } from './worker.ts';

// A worker drains its active jobs on SIGTERM, so give it longer than the lock before forcing.
await runService(
  'worker',
  loadWorkerEnv,
  (env, logger) => buildWorker(toWorkerConfig(env), { logger }),
  {
    graceMs: 30_000,
  },
);

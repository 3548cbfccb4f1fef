import { runService } from '../shared/run-service.ts';
import { buildDownstream } from './app.ts';
import { loadDownstreamEnv, toDownstreamConfig } from './config.ts';

await runService('downstream', loadDownstreamEnv, (env, logger) =>
  buildDownstream(toDownstreamConfig(env), { logger }),
);

import { runService } from '../shared/run-service.ts';
import { buildProducer } from './app.ts';
import { loadProducerEnv, toProducerConfig } from './config.ts';

await runService('producer', loadProducerEnv, (env, logger) =>
  buildProducer(toProducerConfig(env), { logger }),
);

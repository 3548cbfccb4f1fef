import { runService } from '../shared/run-service.ts';
import { buildGateway } from './app.ts';
import { loadGatewayEnv, toGatewayConfig } from './config.ts';

await runService('gateway', loadGatewayEnv, (env, logger) =>
  buildGateway(toGatewayConfig(env), { logger }),
);

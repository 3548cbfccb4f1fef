/** The real gateway, with its instrumentation on (`on`, as shipped) or off (`off`), for the metrics-cost benchmark. */
import { buildGateway } from '../../services/gateway/app.ts';
import { loadGatewayEnv, toGatewayConfig } from '../../services/gateway/config.ts';

const metrics = process.argv[2] !== 'off';
const env = loadGatewayEnv(process.env);
const app = buildGateway(toGatewayConfig(env), { metrics, logger: { level: 'info' } });
await app.listen({ host: env.HOST, port: env.PORT });
app.log.level = 'warn';
process.once('SIGTERM', () => void app.close());

/**
 * The real gateway, with its instrumentation on (`on`, as shipped) or off (`off`), for the
 * metrics-cost benchmark: `gateway.ts on|off DOWNSTREAM_URL`, on a free port.
 */
import { buildGateway } from '../../services/gateway/app.ts';
import { loadGatewayEnv, toGatewayConfig } from '../../services/gateway/config.ts';

const [mode, downstreamUrl] = process.argv.slice(2);
const env = loadGatewayEnv({ DOWNSTREAM_URL: downstreamUrl, PORT: '0' });
const app = buildGateway(toGatewayConfig(env), {
  metrics: mode !== 'off',
  logger: { level: 'info' },
});
await app.listen({ host: env.HOST, port: env.PORT });
app.log.level = 'warn';
process.once('SIGTERM', () => void app.close());

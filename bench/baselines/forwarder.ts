/**
 * The leanest gateway: a Fastify route that forwards the body to the downstream through
 * an undici Pool (the same pool settings as the gateway) and relays the answer. No
 * policy, no metrics, no validation. `forwarder.ts DOWNSTREAM_URL`, on a free port.
 */
import Fastify from 'fastify';
import { Pool } from 'undici';

const downstream = process.argv[2] ?? 'http://127.0.0.1:8081';
const pool = new Pool(downstream, { connections: 128, pipelining: 1, keepAliveTimeout: 10_000 });
const app = Fastify({ logger: { level: 'info' }, disableRequestLogging: true });

app.post('/rpc', async (request, reply) => {
  const response = await pool.request({
    method: 'POST',
    path: '/work',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(request.body),
  });
  const body = await response.body.json();
  return reply.code(response.statusCode).send(body);
});

await app.listen({ host: '127.0.0.1', port: 0 });
app.log.level = 'warn';
process.once('SIGTERM', () => void app.close().then(() => pool.close()));

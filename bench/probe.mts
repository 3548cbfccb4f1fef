import { request } from 'undici';
import { hammer, spawnServer } from './lib.ts';
const downstream = await spawnServer('services/downstream/main.ts', {
  BASE_LATENCY_MS: '0',
  JITTER_MS: '0',
  FAIL_PROBABILITY: '0',
  CAPACITY_RPS: '1000000',
});
const env = { DOWNSTREAM_URL: downstream.url };
const safe = await spawnServer('bench/targets/gateway.ts', env, ['on']);
const bare = await spawnServer('bench/targets/gateway.ts', env, ['on']);
await request(`${bare.url}/admin/policy`, {
  method: 'PUT',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({
    maxRetries: 0,
    breaker: { enabled: false },
    bulkhead: { enabled: false },
  }),
})
  .then((r) => r.body.text())
  .then(console.log);
const fwd = await spawnServer('bench/baselines/forwarder.ts', env);
const shot = (u: string) =>
  hammer(u, { path: '/rpc', body: '{"id":"x"}', connections: 32, durationS: 4 });
for (const s of [safe, bare, fwd]) await shot(s.url);
for (let i = 0; i < 2; i++)
  for (const [n, s] of [
    ['safe', safe],
    ['bare', bare],
    ['fwd', fwd],
  ] as const)
    console.log(n, JSON.stringify(await shot(s.url)));
for (const s of [safe, bare, fwd, downstream]) await s.stop();

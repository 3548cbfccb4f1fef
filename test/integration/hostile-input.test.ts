/**
 * Property-based: generated hostile bodies, content types and headers at every route of
 * the four services that takes a body. Every answer must be a documented 2xx or a 4xx
 * with a JSON error body, never a 5xx, and each service must still be healthy after.
 * The services are real (the producer and worker on a real Redis); requests go in
 * through Fastify's `inject`, so a thousand cost seconds, not minutes.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../services/shared/http-app.ts';
import { startProducer, startWorker } from '../support/event-path.ts';
import type { ProvidedRedis } from '../../load/stack/redis-provider.ts';
import { testRedis, uniqueQueueName } from '../support/redis.ts';
import { type Running, startDownstream, startGateway } from '../support/rpc-path.ts';

/** Runs per route: 9 routes × 150 = 1 350 generated requests. */
const runsPerRoute = 150;

const contentTypes = fc.constantFrom(
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=latin1',
  'APPLICATION/JSON',
  'application/vnd.api+json',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=xyz',
  'application/octet-stream',
  '*/*',
  undefined,
);

const nested = (depth: number, open: string, close: string, inner = '1') =>
  `${open.repeat(depth)}${inner}${close.repeat(depth)}`;

/** Bodies a client should never send: broken, deep, huge, badly typed, not UTF-8, poisoned. */
const hostileBody: fc.Arbitrary<string | Buffer> = fc.oneof(
  fc.jsonValue().map((value) => JSON.stringify(value)),
  fc.record({ id: fc.jsonValue(), payload: fc.jsonValue() }).map((value) => JSON.stringify(value)),
  fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 6 }).map((value) => JSON.stringify(value)),
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes)),
  fc
    .tuple(
      fc.constantFrom('{"id":"', '{"id":"a","payload":"', '"'),
      fc.uint8Array({ minLength: 1, maxLength: 16 }),
    )
    .map(([head, bytes]) =>
      Buffer.concat([Buffer.from(head), Buffer.from(bytes), Buffer.from('"}')]),
    ),
  fc.integer({ min: 2, max: 6000 }).map((depth) => nested(depth, '[', ']')),
  fc
    .integer({ min: 2, max: 6000 })
    .map((depth) => `{"id":"a","payload":${nested(depth, '{"a":', '}')}}`),
  fc.integer({ min: 1000, max: 70_000 }).map((size) => `{"id":"${'x'.repeat(size)}"}`),
  fc.constantFrom(
    '',
    ' ',
    'null',
    '{"__proto__":{"polluted":1},"id":"a"}',
    '{"constructor":{"prototype":{"polluted":1}},"id":"a"}',
    '{"id":"a","id":"b"}',
    '{"id":"\\ud800"}',
    '{"id":"a"}garbage',
    '\ufeff{"id":"a"}',
    '{"id":1e400}',
    '{"model":{"capacityRps":-1}}',
    '{"faults":[{"kind":"hang","durationMs":1e9}]}',
    '{"maxRetries":"3"}',
    '{"concurrency":0}',
  ),
);

const hostileHeaders = fc.dictionary(
  fc.constantFrom('accept', 'accept-encoding', 'x-forwarded-for', 'authorization', 'x-attempts'),
  fc.string({ maxLength: 40 }).filter((value) => /^[\x20-\x7e]*$/.test(value)),
  { maxKeys: 3 },
);

interface Route {
  service: () => Running;
  method: 'POST' | 'PUT' | 'DELETE';
  url: string;
  /** Success statuses the reference documents for this route. */
  ok: number[];
}

let redis: ProvidedRedis;
const running: Running[] = [];
const start = async (service: Promise<Running>) => {
  const started = await service;
  running.push(started);
  return started;
};
let downstream: Running;
let gateway: Running;
let gatewayForAdmin: Running;
let producer: Running;
let worker: Running;

beforeAll(async () => {
  redis = await testRedis();
  // The gateway under test calls a downstream no hostile request touches; the downstream
  // whose faults and model are hammered stands alone.
  const quiet = await start(startDownstream());
  downstream = await start(startDownstream());
  gateway = await start(startGateway(quiet.url));
  gatewayForAdmin = await start(startGateway(quiet.url));
  const queueName = uniqueQueueName('hostile');
  producer = await start(startProducer(redis.url, queueName));
  worker = await start(startWorker(redis.url, queueName, quiet.url));
});
afterAll(async () => {
  for (const service of running.reverse()) await service.app.close();
  await redis?.stop();
});

const routes: Route[] = [
  { service: () => downstream, method: 'POST', url: '/work', ok: [200, 503] },
  { service: () => downstream, method: 'PUT', url: '/admin/faults', ok: [200] },
  { service: () => downstream, method: 'DELETE', url: '/admin/faults', ok: [200] },
  { service: () => gateway, method: 'POST', url: '/rpc', ok: [200] },
  { service: () => gatewayForAdmin, method: 'PUT', url: '/admin/policy', ok: [200] },
  { service: () => producer, method: 'POST', url: '/events', ok: [200, 202] },
  { service: () => producer, method: 'PUT', url: '/admin/policy', ok: [200] },
  { service: () => producer, method: 'DELETE', url: '/admin/queue/completed', ok: [200] },
  { service: () => worker, method: 'PUT', url: '/admin/policy', ok: [200] },
];

async function send(
  app: App,
  route: Route,
  body: string | Buffer,
  type: string | undefined,
  headers: Record<string, string>,
) {
  return app.inject({
    method: route.method,
    url: route.url,
    headers: { ...headers, ...(type === undefined ? {} : { 'content-type': type }) },
    payload: body,
  });
}

describe('hostile input at every route that takes a body (fast-check)', () => {
  for (const route of routes) {
    it(`${route.method} ${route.url}: a documented 2xx or a 4xx with a JSON error, never a 5xx`, async () => {
      const app = route.service().app;
      await fc.assert(
        fc.asyncProperty(hostileBody, contentTypes, hostileHeaders, async (body, type, headers) => {
          const response = await send(app, route, body, type, headers);
          if (route.ok.includes(response.statusCode)) return;
          expect(response.statusCode, response.body).toBeGreaterThanOrEqual(400);
          expect(response.statusCode, response.body).toBeLessThan(500);
          const answer = response.json<{ error: unknown; message: unknown }>();
          expect(typeof answer.error).toBe('string');
          expect(typeof answer.message).toBe('string');
        }),
        { numRuns: runsPerRoute, seed: 2026_12_02 },
      );
      const health = await app.inject({ method: 'GET', url: '/healthz' });
      expect(health.statusCode).toBe(200);
    });
  }

  it('refuses a body nested 5 000 deep and one that is not UTF-8 with a 400 on every route', async () => {
    for (const route of routes) {
      const app = route.service().app;
      const json = 'application/json';
      const deep = await send(
        app,
        route,
        `{"id":"a","payload":${nested(5000, '[', ']')}}`,
        json,
        {},
      );
      expect(deep.statusCode, `${route.method} ${route.url}`).toBe(400);
      expect(deep.json()).toMatchObject({ error: 'json_too_deep' });
      const notUtf8 = await send(
        app,
        route,
        Buffer.from([0x7b, 0x22, 0x69, 0x64, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]),
        json,
        {},
      );
      expect(notUtf8.statusCode, `${route.method} ${route.url}`).toBe(400);
      expect(notUtf8.json()).toMatchObject({ error: 'invalid_json' });
    }
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, type JsonResponse } from '../support/http.ts';
import { type Running, startDownstream, startGateway } from '../support/rpc-path.ts';
import {
  adminCases,
  adminToken,
  auth,
  type Case,
  json,
  workCases,
} from '../support/bad-input-cases.ts';

let downstream: Running;
let gateway: Running;

beforeAll(async () => {
  downstream = await startDownstream({}, { adminToken });
  gateway = await startGateway(downstream.url, {}, { adminToken });
});
afterAll(async () => {
  await gateway.app.close();
  await downstream.app.close();
});

const cases: Case[] = [
  ...workCases(() => downstream, '/work'),
  ...workCases(() => gateway, '/rpc'),
  ...adminCases(() => downstream, '/admin/faults', { model: { failProbability: 0 } }),
  {
    name: 'DELETE without a token',
    service: () => downstream,
    method: 'DELETE',
    path: '/admin/faults',
    status: 401,
    error: 'unauthorized',
  },
  {
    name: 'a fault of an unknown kind',
    service: () => downstream,
    method: 'PUT',
    path: '/admin/faults',
    headers: { ...auth, ...json },
    rawBody: '{"faults":[{"kind":"meteor","durationMs":10}]}',
    status: 400,
    error: 'bad_request',
    mentions: 'body.faults[0].kind',
  },
  {
    name: 'a negative duration',
    service: () => downstream,
    method: 'PUT',
    path: '/admin/faults',
    headers: { ...auth, ...json },
    rawBody: '{"faults":[{"kind":"error","durationMs":-5}]}',
    status: 400,
    error: 'bad_request',
    mentions: 'body.faults[0].durationMs',
  },
  {
    name: 'a latency fault without latencyMs',
    service: () => downstream,
    method: 'PUT',
    path: '/admin/faults',
    headers: { ...auth, ...json },
    rawBody: '{"faults":[{"kind":"latency","durationMs":10}]}',
    status: 400,
    error: 'bad_request',
    mentions: 'body.faults[0]: a latency fault needs latencyMs',
  },
  {
    name: 'a model field of the wrong type',
    service: () => downstream,
    method: 'PUT',
    path: '/admin/faults',
    headers: { ...auth, ...json },
    rawBody: '{"model":{"jitterMs":"6"}}',
    status: 400,
    error: 'bad_request',
    mentions: 'body.model.jitterMs: must be number',
  },
  {
    name: 'an unknown model field',
    service: () => downstream,
    method: 'PUT',
    path: '/admin/faults',
    headers: { ...auth, ...json },
    rawBody: '{"model":{"speed":1}}',
    status: 400,
    error: 'bad_request',
    mentions: 'unknown field "speed"',
  },
  ...adminCases(() => gateway, '/admin/policy', { maxRetries: 1 }),
  {
    name: 'a negative backoff cap',
    service: () => gateway,
    method: 'PUT',
    path: '/admin/policy',
    headers: { ...auth, ...json },
    rawBody: '{"backoff":{"capMs":-1}}',
    status: 400,
    error: 'bad_request',
    mentions: 'body.backoff.capMs: must be >= 0',
  },
  {
    name: 'an unknown nested field',
    service: () => gateway,
    method: 'PUT',
    path: '/admin/policy',
    headers: { ...auth, ...json },
    rawBody: '{"breaker":{"halfOpenMs":5}}',
    status: 400,
    error: 'bad_request',
    mentions: 'body.breaker: unknown field "halfOpenMs"',
  },
  {
    name: 'a breaker threshold above its window',
    service: () => gateway,
    method: 'PUT',
    path: '/admin/policy',
    headers: { ...auth, ...json },
    rawBody: '{"breaker":{"failureThreshold":50}}',
    status: 400,
    error: 'bad_request',
    mentions: 'breaker.failureThreshold',
  },
  {
    name: 'an unknown preset',
    service: () => gateway,
    method: 'PUT',
    path: '/admin/policy',
    headers: { ...auth, ...json },
    rawBody: '{"preset":"yolo"}',
    status: 400,
    error: 'bad_request',
    mentions:
      'body.preset: must be one of safe, unsafe, budgeted, aws-sdk-standard, aws-sdk-2026, grpc, envoy, finagle, polly, resilience4j',
  },
  {
    name: 'an unknown route',
    service: () => gateway,
    method: 'GET',
    path: '/nope',
    status: 404,
    error: 'not_found',
  },
  {
    name: 'a wrong method',
    service: () => downstream,
    method: 'GET',
    path: '/work',
    status: 404,
    error: 'not_found',
  },
  {
    name: 'an unknown admin route',
    service: () => gateway,
    method: 'GET',
    path: '/admin/nothing',
    headers: auth,
    status: 404,
    error: 'not_found',
  },
];

describe('bad input gets a 4xx with a JSON body naming the problem, never a 500', () => {
  it.each(cases.map((c) => [`${c.method} ${c.path} with ${c.name} → ${c.status}`, c] as const))(
    '%s',
    async (_title, c) => {
      const response: JsonResponse = await call(`${c.service().url}${c.path}`, {
        method: c.method,
        ...(c.headers ? { headers: c.headers } : {}),
        ...(c.rawBody !== undefined ? { rawBody: c.rawBody } : {}),
      });
      expect(response.status).toBe(c.status);
      expect(response.headers['content-type']).toMatch(/^application\/json/);
      expect(response.body.error).toBe(c.error);
      expect(typeof response.body.message).toBe('string');
      if (c.mentions) expect(response.body.message).toContain(c.mentions);
    },
  );

  it('still serves after all of it, and the admin token lets good calls through', async () => {
    expect((await call(`${gateway.url}/healthz`)).status).toBe(200);
    expect((await call(`${downstream.url}/healthz`)).status).toBe(200);
    expect((await call(`${gateway.url}/admin/policy`, { headers: auth })).status).toBe(200);
    const put = await call(`${downstream.url}/admin/faults`, {
      method: 'PUT',
      headers: auth,
      body: { model: { jitterMs: 1 } },
    });
    expect(put.status).toBe(200);
    expect((await call(`${gateway.url}/rpc`, { body: { id: 'fine' } })).status).toBe(200);
  });

  it('sets x-attempts on every /rpc answer, 0 when the request never reached the policy', async () => {
    const response = await call(`${gateway.url}/rpc`, { body: { id: 7 } });
    expect(response.status).toBe(400);
    expect(response.headers['x-attempts']).toBe('0');
  });
});

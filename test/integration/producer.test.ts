import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RedisTarget } from '../../services/shared/redis-connection.ts';
import { inspectQueues, startProducer } from '../support/event-path.ts';
import { call, eventually, scrape } from '../support/http.ts';
import { uniqueQueueName, useRedisPerFile } from '../support/redis.ts';
import type { Running } from '../support/rpc-path.ts';
import { startOwnRedis } from '../support/own-redis.ts';

const { redis: currentRedis, open } = useRedisPerFile();

async function producer(
  label: string,
  ...rest: Parameters<typeof startProducer> extends [RedisTarget, string, ...infer R] ? R : never
) {
  const queueName = uniqueQueueName(label);
  const running: Running = await startProducer(currentRedis().url, queueName, ...rest);
  open.push(running.app);
  const queues = inspectQueues(currentRedis().url, queueName);
  open.push(queues);
  const post = (body: unknown) => call(`${running.url}/events`, { body });
  return { ...running, queueName, queues, post };
}

describe('producer', () => {
  it('answers 202 only once Redis holds the job, with attempts and backoff from its policy', async () => {
    const { post, queues } = await producer('accept', { maxRetries: 2 });
    const response = await post({ id: 'evt-1', payload: { order: 42 } });
    expect(response.status).toBe(202);
    expect(response.body).toEqual({ jobId: 'evt-1' });
    const job = await queues.main.getJob('evt-1');
    expect(job?.data).toMatchObject({ id: 'evt-1', payload: { order: 42 } });
    expect(job?.opts.attempts).toBe(3);
    expect(job?.opts.backoff).toEqual({ type: 'cascade' });
  });

  it('does not queue a repeated id twice, and says so', async () => {
    const { post, queues, url } = await producer('dup');
    expect((await post({ id: 'same' })).status).toBe(202);
    const again = await post({ id: 'same', payload: 'different' });
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ jobId: 'same', duplicate: true });
    expect(await queues.main.getWaitingCount()).toBe(1);
    expect((await queues.main.getJob('same'))?.data.payload).toBeUndefined();
    expect(await scrape(url, 'producer_events_total', { outcome: 'duplicate' })).toBe(1);
  });

  it('refuses a payload nested too deep or not UTF-8 as bad input, never as an outage', async () => {
    const { url, queues } = await producer('hostile');
    const deep = await call(`${url}/events`, {
      headers: { 'content-type': 'application/json' },
      rawBody: `{"id":"deep","payload":${'['.repeat(5000)}${']'.repeat(5000)}}`,
    });
    expect(deep.status).toBe(400);
    expect(deep.body).toMatchObject({ error: 'json_too_deep' });
    expect(deep.body.message).toContain('32 levels');
    const bytes = await call(`${url}/events`, {
      headers: { 'content-type': 'application/json' },
      rawBody: Buffer.concat([
        Buffer.from('{"id":"'),
        Buffer.from([0xff, 0xfe]),
        Buffer.from('"}'),
      ]),
    });
    expect(bytes.status).toBe(400);
    expect(bytes.body).toMatchObject({ error: 'invalid_json' });
    // Neither reached the handler: nothing counted, nothing queued, no outage reported.
    for (const outcome of ['unavailable', 'error', 'accepted'])
      expect(await scrape(url, 'producer_events_total', { outcome })).toBe(0);
    expect((await queues.main.getJobCounts('waiting')).waiting).toBe(0);
  });

  it('answers 429 queue_full at maxDepth and counts it as dropped', async () => {
    const { post, url } = await producer('full', { maxDepth: 5 }, { depthCacheMs: 60_000 });
    const statuses = [];
    for (let i = 0; i < 8; i += 1) statuses.push((await post({ id: `f${i}` })).status);
    expect(statuses).toEqual([202, 202, 202, 202, 202, 429, 429, 429]);
    const full = await post({ id: 'f9' });
    expect(full.body).toMatchObject({ error: 'queue_full' });
    expect(await scrape(url, 'producer_events_total', { outcome: 'dropped' })).toBe(4);
    expect(await scrape(url, 'producer_events_total', { outcome: 'accepted' })).toBe(5);
  });

  it('admits exactly maxDepth events when many arrive at once (no overshoot from concurrency)', async () => {
    const { post, url, queues } = await producer(
      'burst',
      { maxDepth: 10 },
      { depthCacheMs: 60_000 },
    );
    const statuses = await Promise.all(
      Array.from({ length: 60 }, (_, i) => post({ id: `burst-${i}` }).then((r) => r.status)),
    );
    expect(statuses.filter((status) => status === 202)).toHaveLength(10);
    expect(statuses.filter((status) => status === 429)).toHaveLength(50);
    expect(await queues.main.getWaitingCount()).toBe(10);
    expect(await scrape(url, 'producer_events_total', { outcome: 'accepted' })).toBe(10);
  });

  it('reports queue counts and takes policy changes from the next event', async () => {
    const { post, url, queues, queueName } = await producer('admin');
    await post({ id: 'a' });
    const counts = await call(`${url}/admin/queue`);
    const one = { waiting: 1, active: 0, delayed: 0, completed: 0, failed: 0, deadLettered: 0 };
    // A plain queue is a topic's one unnamed subscriber.
    expect(counts.body).toEqual({
      ...one,
      subscribers: [{ name: null, queue: queueName, ...one }],
    });
    const put = await call(`${url}/admin/policy`, {
      method: 'PUT',
      body: { maxRetries: 0, backoff: { jitter: 'equal' } },
    });
    expect(put.body).toMatchObject({
      maxRetries: 0,
      backoff: { kind: 'exponential', jitter: 'equal' },
    });
    await post({ id: 'b' });
    expect((await queues.main.getJob('b'))?.opts.attempts).toBe(1);
    // A partial update keeps what it leaves out.
    const later = await call(`${url}/admin/policy`, { method: 'PUT', body: { maxDepth: 9 } });
    expect(later.body).toMatchObject({ maxRetries: 0, maxDepth: 9, backoff: { jitter: 'equal' } });
  });

  it('answers 503 while Redis is down, never 202, and accepts again when it is back without a restart', async () => {
    const own = await startOwnRedis();
    open.push({ close: () => own.stop() });
    const queueName = uniqueQueueName('down');
    const running = await startProducer(own.url, queueName, {}, { publishTimeoutMs: 2000 });
    open.unshift(running.app);
    const post = (id: string) => call(`${running.url}/events`, { body: { id } });
    expect((await post('before')).status).toBe(202);

    await own.kill();
    for (let i = 0; i < 5; i += 1) {
      const response = await post(`during-${i}`);
      expect(response.status).toBe(503);
      expect(response.body).toMatchObject({ error: 'queue_unavailable' });
    }
    expect((await call(`${running.url}/admin/queue`)).status).toBe(503);

    await own.restart();
    await eventually(async () => expect((await post('after')).status).toBe(202), 20_000);
    expect(
      await scrape(running.url, 'producer_events_total', { outcome: 'unavailable' }),
    ).toBeGreaterThanOrEqual(5);
  });

  it('when Redis freezes after an add was sent, answers 503 saying it may still be queued, and counts it once it lands', async () => {
    const own = await startOwnRedis();
    open.push({ close: () => own.stop() });
    const queueName = uniqueQueueName('hang');
    // The depth estimate stays fresh from the first event, so the next one reaches the add.
    const running = await startProducer(
      own.url,
      queueName,
      {},
      { publishTimeoutMs: 300, depthCacheMs: 600_000 },
    );
    open.unshift(running.app);
    const queues = inspectQueues(own.url, queueName);
    open.push(queues);
    const post = (id: string) => call(`${running.url}/events`, { body: { id } });
    expect((await post('first')).status).toBe(202);

    await own.pause();
    const hung = await post('hung').finally(() => own.resume());
    expect(hung.status).toBe(503);
    expect(hung.body).toMatchObject({ error: 'queue_unavailable' });
    expect(hung.body.message).toContain('may still be queued');
    expect(hung.body.message).toContain('same id is safe');
    // Redis runs the add it had received: the job is there, and the producer says so.
    await eventually(async () =>
      expect(await scrape(running.url, 'producer_events_queued_late_total')).toBe(1),
    );
    expect(await queues.main.getJob('hung')).toBeDefined();
    expect(await scrape(running.url, 'producer_events_total', { outcome: 'unavailable' })).toBe(1);
  });
});

describe('producer bad input', () => {
  const token = 'producer-admin-token';
  let running: Running & { queueName: string };
  beforeAll(async () => {
    const queueName = uniqueQueueName('bad');
    running = {
      ...(await startProducer(currentRedis().url, queueName, {}, { adminToken: token })),
      queueName,
    };
  });
  afterAll(async () => {
    await running.app.close();
  });

  it.each([
    ['POST', '/events', 'application/json', '{"id":', 400, 'invalid_json'],
    ['POST', '/events', 'application/json', '{"id": 5}', 400, 'bad_request'],
    ['POST', '/events', 'application/json', '{"payload": {}}', 400, 'bad_request'],
    ['POST', '/events', 'application/json', '{"id": "x", "extra": true}', 400, 'bad_request'],
    [
      'POST',
      '/events',
      'application/json',
      JSON.stringify({ id: 'x', payload: 'p'.repeat(100_000) }),
      413,
      'payload_too_large',
    ],
    ['POST', '/events', 'text/plain', 'id=x', 415, 'unsupported_media_type'],
    ['GET', '/admin/queue', undefined, undefined, 401, 'unauthorized'],
    ['DELETE', '/admin/queue/completed', undefined, undefined, 401, 'unauthorized'],
    ['PUT', '/admin/policy', 'application/json', '{"maxRetries": 1}', 401, 'unauthorized'],
    ['GET', '/nothing', undefined, undefined, 404, 'not_found'],
  ])('%s %s with %s %s → %i %s', async (method, path, contentType, rawBody, status, error) => {
    const response = await call(`${running.url}${path}`, {
      method,
      ...(contentType ? { headers: { 'content-type': contentType } } : {}),
      ...(rawBody !== undefined ? { rawBody } : {}),
    });
    expect(response.status).toBe(status);
    expect(response.body).toMatchObject({ error });
    expect(typeof response.body.message).toBe('string');
  });

  it.each([
    ['{"maxRetries": -1}', 'body.maxRetries: must be >= 0'],
    [
      '{"backoff": {"jitter": "wild"}}',
      'body.backoff.jitter: must be one of none, full, equal, decorrelated',
    ],
    ['{"maxDepth": 0}', 'body.maxDepth: must be >= 1'],
    ['{"depth": 1}', 'body: unknown field "depth"'],
  ])('PUT /admin/policy %s → 400 naming the problem', async (rawBody, message) => {
    const response = await call(`${running.url}/admin/policy`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      rawBody,
    });
    expect(response.status).toBe(400);
    expect(response.body.message).toContain(message);
  });
});

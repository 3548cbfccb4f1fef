/**
 * What PUBLISH_WAIT_REPLICAS=1 costs: two producers on one local Redis Cluster (three
 * masters, three replicas), one answering 202 once the master has the job and one once a
 * replica acknowledged it too (WAIT), each published to by the open-loop generator.
 */
import { runLoad } from '../../load/generator/generator.ts';
import { constant } from '../../load/schedule/schedule.ts';
import { startRedisCluster } from '../../load/stack/redis-cluster.ts';
import { alternate, type PartResult, type Row } from '../harness.ts';
import { log, median, round, spawnServer } from '../lib.ts';

export async function replicaWait(rounds: number): Promise<PartResult> {
  log('replica wait: POST /events on a Redis Cluster, 202 at once vs after a replica acknowledged');
  const cluster = await startRedisCluster({ masters: 3, replicas: 1 });
  const producer = (queue: string, replicas: number) =>
    spawnServer('services/producer/main.ts', {
      REDIS_CLUSTER_NODES: cluster.seeds,
      QUEUE_NAME: queue,
      MAX_DEPTH: '10000000',
      PUBLISH_WAIT_REPLICAS: String(replicas),
    });
  const plain = await producer('bench-async', 0);
  const waited = await producer('bench-waited', 1);
  try {
    let batch = 0;
    const publish = (url: string) => async () => {
      batch += 1;
      // 500 events/s for 4 s, every id new (a repeated id is answered without a write).
      const result = await runLoad({
        target: 'events',
        baseUrl: url,
        offsetsMs: constant(500, 4000),
        idPrefix: `b${batch}`,
      });
      if (result.ok !== result.sent)
        throw new Error(`only ${result.ok} of ${result.sent} publishes were accepted`);
      return { p50Ms: result.latency.p50Ms!, p99Ms: result.latency.p99Ms! };
    };
    await publish(plain.url)();
    await publish(waited.url)();
    const [ours, baseline] = await alternate(rounds, [publish(waited.url), publish(plain.url)]);
    const ratio = (field: 'p50Ms' | 'p99Ms') =>
      round(median(ours!.map((r, i) => r[field] / baseline![i]![field])), 2);
    const rows: Row[] = (['p50Ms', 'p99Ms'] as const).map((field) => ({
      what: `producer: publish ${field.slice(0, 3)} at 500/s on a Redis Cluster, WAIT 1 replica (ms; baseline: no wait)`,
      ours: `${round(median(ours!.map((r) => r[field])), 2)}`,
      baseline: `${round(median(baseline!.map((r) => r[field])), 2)}`,
      ratio: `${ratio(field)}×`,
      target: 'measured, not a target',
      met: null,
    }));
    return { rows, details: { replicaWait: { waited: ours, async: baseline } } };
  } finally {
    await Promise.allSettled([plain.stop(), waited.stop()]);
    await cluster.stop();
  }
}

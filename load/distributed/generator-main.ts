/**
 * One local generator of `experiment --generators n` (local-generators.ts starts it): reads
 * its spec from the JSON file named by its argument, opens its connections, says
 * `{"ready":true}` on stdout, waits for `{"startAt":…}` on stdin, sends its segment of the
 * schedule, reports `{"progress":…}` every second, writes its part and says `{"done":true}`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { connectFor } from '../generator/pool.ts';
import { runLoad } from '../generator/generator.ts';
import type { HttpRequestSpec } from '../generator/http-target.ts';
import type { LoadTarget } from '../generator/series.ts';
import { type PartMeta, toPart } from './part.ts';
import { type Segment, segmentOf } from './segment.ts';

/** What the coordinator tells a local generator. */
export interface LocalGeneratorSpec {
  meta: PartMeta;
  baseUrl: string;
  request?: HttpRequestSpec | undefined;
  /** The whole schedule; this generator sends `meta.segment` of it. */
  offsetsMs: number[];
  idPrefix: string;
  bucketMs: number;
  /** Connections: one for every request its share can have in flight within this long. */
  holdMs: number;
  /** Where to write its part. */
  out: string;
}

const say = (message: object) => process.stdout.write(`${JSON.stringify(message)}\n`);

async function main(file: string): Promise<void> {
  const spec = JSON.parse(readFileSync(file, 'utf8')) as LocalGeneratorSpec & {
    meta: { segment: Segment; target: LoadTarget };
  };
  const { meta } = spec;
  const share = segmentOf(spec.offsetsMs, meta.segment);
  const pool = await connectFor(spec.baseUrl, share.offsetsMs, {
    maxOutstanding: meta.maxOutstanding,
    holdMs: spec.holdMs,
  });
  say({ ready: true });
  const lines = createInterface({ input: process.stdin });
  const go = await new Promise<{ startAt: number }>((resolve) => {
    let told = false;
    lines.once('line', (line) => {
      told = true;
      resolve(JSON.parse(line) as { startAt: number });
    });
    // The coordinator went away before the start: nothing to send.
    lines.once('close', () => {
      if (!told) process.exit(1);
    });
  });
  lines.close();
  try {
    const result = await runLoad({
      target: meta.target,
      baseUrl: spec.baseUrl,
      request: spec.request,
      pool,
      offsetsMs: share.offsetsMs,
      indices: share.indices,
      startAt: go.startAt,
      record: true,
      maxOutstanding: meta.maxOutstanding,
      idPrefix: spec.idPrefix,
      timeScale: meta.timeScale,
      bucketMs: spec.bucketMs,
      onProgress: (progress) => say({ progress }),
    });
    writeFileSync(spec.out, JSON.stringify(toPart({ ...meta, startAt: go.startAt }, result)));
  } finally {
    await pool.close();
  }
  say({ done: true });
}

main(process.argv[2]!).catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});

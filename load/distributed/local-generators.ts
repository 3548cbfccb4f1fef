import { defaultMaxOutstanding } from '../generator/recording.ts';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { spawnNode, stopChild } from '../stack/child-process.ts';
import { type LoadOptions, type LoadProgress } from '../generator/options.ts';
import type { LocalGeneratorSpec } from './generator-main.ts';
import { type MergedLoad, mergeParts } from './merge.ts';
import { parsePart } from './part.ts';
import { scheduleFacts } from './segment.ts';

const entry = new URL(
  `./generator-main.${import.meta.url.endsWith('.ts') ? 'ts' : 'js'}`,
  import.meta.url,
);

/** How long a local generator may take to open its connections. */
const readyTimeoutMs = 60_000;

/** n generator processes, connected and waiting for their start. */
export interface LocalGenerators {
  /** Starts all of them on one clock (now) and answers their parts merged. */
  run(): Promise<MergedLoad>;
  /** Stops them without a run (the caller failed before it). */
  stop(): Promise<void>;
}

/**
 * Starts `count` generator processes for one run's schedule, each with segment i/count
 * (distributed/segment.ts), and waits until every one has opened its connections. Their
 * progress is summed for `onProgress`; their parts are merged exactly (merge.ts).
 */
export async function startLocalGenerators(
  options: LoadOptions & { name: string; count: number; holdMs: number },
): Promise<LocalGenerators> {
  const dir = mkdtempSync(path.join(tmpdir(), 'cascade-generators-'));
  const maxOutstanding = options.maxOutstanding ?? defaultMaxOutstanding;
  const children: ChildProcess[] = [];
  const progress: Array<LoadProgress | undefined> = [];
  const outputs: string[] = [];
  const cleanUp = async () => {
    await Promise.all(children.map((child) => stopChild(child, 2000)));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const ready = Array.from({ length: options.count }, (_, index) => {
      const spec: LocalGeneratorSpec = {
        meta: {
          name: options.name,
          segment: { index, count: options.count },
          schedule: scheduleFacts(options.offsetsMs),
          startAt: null,
          target: options.target,
          url: options.baseUrl,
          timeScale: options.timeScale ?? 1,
          maxOutstanding,
        },
        baseUrl: options.baseUrl,
        request: options.request,
        offsetsMs: options.offsetsMs,
        idPrefix: options.idPrefix ?? 'req',
        bucketMs: options.bucketMs ?? 250,
        holdMs: options.holdMs,
        out: path.join(dir, `part-${index}.json`),
      };
      const specFile = path.join(dir, `spec-${index}.json`);
      writeFileSync(specFile, JSON.stringify(spec));
      const child = spawnNode(entry.pathname, {
        // It reads nothing from its environment: its spec says everything.
        env: { PATH: process.env.PATH ?? '' },
        args: [specFile],
        stdin: 'pipe',
      });
      children.push(child);
      outputs.push('');
      child.stderr?.on('data', (chunk: Buffer) => (outputs[index] += chunk.toString()));
      const lines = createInterface({ input: child.stdout! });
      let onReady: () => void;
      let onDone: () => void;
      const readyP = new Promise<void>((resolve) => (onReady = resolve));
      const doneP = new Promise<void>((resolve, reject) => {
        onDone = resolve;
        child.once('exit', (code) =>
          reject(
            new Error(
              `local generator ${index}/${options.count} exited with ${code}: ${outputs[index]!.trim()}`,
            ),
          ),
        );
      });
      // Stopped before its run, it exits: no one waits for this then.
      doneP.catch(() => undefined);
      lines.on('line', (line) => {
        const message = JSON.parse(line) as {
          ready?: true;
          done?: true;
          progress?: LoadProgress;
        };
        if (message.ready) onReady();
        if (message.done) onDone();
        if (message.progress) {
          progress[index] = message.progress;
          report();
        }
      });
      return { ready: Promise.race([readyP, doneP]), done: doneP, child, out: spec.out };
    });
    const report = () => {
      const known = progress.filter((p): p is LoadProgress => p !== undefined);
      if (known.length < options.count) return;
      const sum = (field: keyof LoadProgress) => known.reduce((s, p) => s + p[field], 0);
      options.onProgress?.({
        elapsedMs: Math.max(...known.map((p) => p.elapsedMs)),
        scheduled: sum('scheduled'),
        sent: sum('sent'),
        ok: sum('ok'),
        failed: sum('failed'),
        dropped: sum('dropped'),
        outstanding: sum('outstanding'),
      });
    };
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(ready.map((generator) => generator.ready)),
      new Promise((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new Error(`the local generators were not ready within ${readyTimeoutMs / 1000} s`),
            ),
          readyTimeoutMs,
        );
      }),
    ]).finally(() => clearTimeout(timer));
    return {
      async run() {
        try {
          // 10 ms ahead: time for the line to reach every child, so none starts late. A
          // caller's clock (an experiment's fault timeline) started when it called run()
          // is ahead of the load by that much, less than a fault's admin call takes.
          const startAt = Date.now() + 10;
          for (const { child } of ready) child.stdin!.end(`${JSON.stringify({ startAt })}\n`);
          await Promise.all(ready.map((generator) => generator.done));
          return mergeParts(
            ready.map(({ out }) => parsePart(readFileSync(out, 'utf8'), path.basename(out))),
          );
        } finally {
          await cleanUp();
        }
      },
      stop: cleanUp,
    };
  } catch (error) {
    await cleanUp();
    throw error;
  }
}

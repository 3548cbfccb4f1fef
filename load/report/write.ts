import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ExperimentResult } from '../experiment/result.ts';
import { renderHtml } from './html.ts';
import { markdown } from './markdown.ts';

/** Writes summary.json (everything, series included), summary.md and report.html into `dir`. */
export function writeSummary(result: ExperimentResult, dir: string): string[] {
  mkdirSync(dir, { recursive: true });
  const files = [
    path.join(dir, 'summary.json'),
    path.join(dir, 'summary.md'),
    path.join(dir, 'report.html'),
  ];
  writeFileSync(files[0]!, `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(files[1]!, markdown(result));
  writeFileSync(files[2]!, renderHtml(result));
  return files;
}

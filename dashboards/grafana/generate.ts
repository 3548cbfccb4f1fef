/**
 * The Grafana dashboards, written as typed objects (`@grafana/schema`) and emitted as the
 * JSON files Grafana provisions from `dashboards/grafana/dashboards/`. Run
 * `npm run dashboards` after a change; a test fails when the JSON and this file disagree.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Dashboard } from '@grafana/schema';
import { eventsDetail } from './boards/events.ts';
import { overview } from './boards/overview.ts';
import { rpcDetail } from './boards/rpc.ts';

export { datasource } from './panels.ts';

export const dashboards: Record<string, Dashboard> = {
  'overview.json': overview,
  'rpc.json': rpcDetail,
  'events.json': eventsDetail,
};

export const dashboardsDir = fileURLToPath(new URL('./dashboards/', import.meta.url));

export const render = (board: Dashboard) => `${JSON.stringify(board, null, 2)}\n`;

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  for (const [file, board] of Object.entries(dashboards))
    writeFileSync(path.join(dashboardsDir, file), render(board));
  process.stdout.write(`wrote ${Object.keys(dashboards).join(', ')} to ${dashboardsDir}\n`);
}

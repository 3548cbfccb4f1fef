import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Panel } from '@grafana/schema';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { dashboards, datasource } from '../../dashboards/grafana/generate.ts';
import { committedDashboards, dashboardQueries, grafanaDir } from '../support/dashboards.ts';

const committed = committedDashboards();
const panelsOf = (file: string) => (committed[file]!.panels ?? []) as Panel[];

describe('Grafana dashboards', () => {
  it('are exactly what generate.ts (typed against @grafana/schema) builds: run `npm run dashboards` after a change', () => {
    expect(Object.keys(committed).sort()).toEqual(Object.keys(dashboards).sort());
    for (const [file, board] of Object.entries(dashboards))
      expect(committed[file], file).toEqual(JSON.parse(JSON.stringify(board)));
  });

  it('use the datasource the provisioning file defines, everywhere', () => {
    const provisioned = parse(
      readFileSync(path.join(grafanaDir, 'provisioning/datasources/prometheus.yml'), 'utf8'),
    ) as { datasources: Array<{ uid: string; type: string }> };
    expect(provisioned.datasources.map(({ uid, type }) => ({ uid, type }))).toEqual([datasource]);
    for (const file of Object.keys(committed)) {
      for (const panel of panelsOf(file)) {
        expect(panel.datasource, `${file} › ${panel.title}`).toEqual(datasource);
        for (const target of panel.targets ?? [])
          expect(target.datasource, `${file} › ${panel.title}`).toEqual(datasource);
      }
    }
  });

  it('give every panel a unique id, a title, a one-line description and a unit', () => {
    for (const file of Object.keys(committed)) {
      const panels = panelsOf(file);
      expect(new Set(panels.map((panel) => panel.id)).size, file).toBe(panels.length);
      for (const panel of panels) {
        const where = `${file} › ${panel.title}`;
        expect(panel.title?.length, where).toBeGreaterThan(10);
        expect(panel.description, where).toMatch(/^[^\n]{20,300}$/);
        expect(panel.fieldConfig?.defaults.unit, where).toMatch(/\S/);
        expect(panel.targets?.length, where).toBeGreaterThan(0);
      }
    }
  });

  it('lay panels out on the 24-column grid without overlaps', () => {
    for (const file of Object.keys(committed)) {
      const boxes = panelsOf(file).map((panel) => ({ title: panel.title, ...panel.gridPos! }));
      for (const box of boxes)
        expect(box.x + box.w, `${file} › ${box.title}`).toBeLessThanOrEqual(24);
      for (const [i, a] of boxes.entries()) {
        for (const b of boxes.slice(i + 1)) {
          const overlap = a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
          expect(overlap, `${file}: "${a.title}" overlaps "${b.title}"`).toBe(false);
        }
      }
    }
  });

  it('put the overview beside the RPC and events detail, with faults as annotations and workers as a variable', () => {
    expect(committed['overview.json']!.title).toBe('cascade-lab: RPC vs events');
    for (const file of Object.keys(committed)) {
      expect(dashboardQueries(file, committed[file]!).map((query) => query.where)).toContain(
        `${file} › annotation Downstream faults`,
      );
    }
    expect(committed['events.json']!.templating?.list?.map((variable) => variable.name)).toEqual([
      'subscriber',
      'instance',
    ]);
    // Subscribers side by side: panels grouped by subscriber, narrowed by the variable.
    const perSubscriber = panelsOf('events.json').filter((panel) =>
      panel.targets?.some((target) => String(target.expr).includes('$subscriber')),
    );
    expect(perSubscriber.map((panel) => panel.title)).toEqual(
      expect.arrayContaining([
        'Jobs finished per second, per subscriber',
        'End to end p99, per subscriber',
        'Queue depth, per subscriber',
        'Dead-letter queue size, per subscriber',
      ]),
    );
    const perWorker = panelsOf('events.json').filter((panel) =>
      panel.targets?.some((target) => String(target.expr).includes('$instance')),
    );
    expect(perWorker.length).toBeGreaterThanOrEqual(5);
  });
});

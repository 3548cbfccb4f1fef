import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Dashboard, Panel } from '@grafana/schema';
import { parse } from 'yaml';
import { prometheusDir } from './prometheus.ts';
import { repoRoot } from './processes.ts';

export const grafanaDir = path.join(repoRoot, 'dashboards/grafana');

/** The committed dashboard files, parsed. */
export function committedDashboards(): Record<string, Dashboard> {
  const dir = path.join(grafanaDir, 'dashboards');
  return Object.fromEntries(
    readdirSync(dir)
      .filter((file) => file.endsWith('.json'))
      .map((file) => [file, JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as Dashboard]),
  );
}

export interface DashboardQuery {
  /** `overview.json › Panel title` (or the annotation / variable name). */
  where: string;
  expr: string;
}

/** Every PromQL a dashboard runs: panel targets, annotation queries and variable queries. */
export function dashboardQueries(file: string, board: Dashboard): DashboardQuery[] {
  const panels = (board.panels ?? []) as Panel[];
  const fromPanels = panels.flatMap((panel) =>
    (panel.targets ?? []).map((target) => ({
      where: `${file} › ${panel.title ?? `panel ${panel.id}`}`,
      expr: (target as { expr: string }).expr,
    })),
  );
  const fromAnnotations = (board.annotations?.list ?? []).flatMap((annotation) => {
    const target = annotation.target as { expr?: string } | undefined;
    return target?.expr
      ? [{ where: `${file} › annotation ${annotation.name}`, expr: target.expr }]
      : [];
  });
  return [...fromPanels, ...fromAnnotations];
}

/**
 * A panel query as Grafana would send it: every variable (`$subscriber`, `$instance`) at
 * All, its allValue `.*`, and `$__rate_interval` as Grafana computes it, four scrape
 * intervals (the datasource's `timeInterval`, 2 s).
 */
export const asGrafanaSends = (expr: string) =>
  expr.replaceAll('$__rate_interval', '8s').replace(/\$(?!__)\w+/g, '.*');

/** `label_values(metric, label)` variables, for the label-values API. */
export function dashboardVariables(board: Dashboard) {
  return (board.templating?.list ?? []).map((variable) => {
    const { definition } = variable as { definition?: string };
    const match = /^label_values\((\w+),\s*(\w+)\)$/.exec(definition ?? '');
    if (!match)
      throw new Error(`variable ${variable.name}: only label_values(metric, label) is used`);
    return { name: variable.name, metric: match[1]!, label: match[2]! };
  });
}

/** The recording rules' names and expressions. */
export function recordingRules(): Array<{
  record: string;
  expr: string;
  labels?: Record<string, string>;
}> {
  const file = parse(readFileSync(path.join(prometheusDir, 'rules/recording.yml'), 'utf8')) as {
    groups: Array<{
      rules: Array<{ record: string; expr: string; labels?: Record<string, string> }>;
    }>;
  };
  return file.groups.flatMap((group) => group.rules);
}

/** Metric names a PromQL expression reads: identifiers followed by a selector, range or `)`/`,`, minus PromQL's own words. */
export function metricNames(expr: string): string[] {
  const words = new Set([
    'sum',
    'max',
    'min',
    'avg',
    'rate',
    'increase',
    'by',
    'without',
    'histogram_quantile',
    'clamp_max',
    'clamp_min',
    'bool',
    'on',
    'ignoring',
    'group_left',
    'group_right',
    'le',
    'label_values',
    'avg_over_time',
    'max_over_time',
    'min_over_time',
    'and',
    'or',
    'unless',
  ]);
  const names = new Set<string>();
  // Drop label matchers and by-lists first, so label names are not taken for metrics.
  const stripped = expr
    .replace(/\{[^}]*\}/g, '{}')
    .replace(/\b(by|without)\s*\([^)]*\)/g, ' ')
    .replace(/\$\w+/g, ' ');
  for (const match of stripped.matchAll(/\b([a-zA-Z_:][\w:]*)\b(?!\s*\()/g)) {
    const name = match[1]!;
    if (!words.has(name) && !/^\d/.test(name) && !/^(\d+[smhd])$/.test(name)) names.add(name);
  }
  return [...names];
}

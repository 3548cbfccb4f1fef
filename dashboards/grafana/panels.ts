/** The pieces every board is made of: typed panels and dashboards (`@grafana/schema`), laid out two to a row. */
import {
  type AnnotationQuery,
  type Dashboard,
  type DataQuery,
  type DataSourceRef,
  MappingType,
  type Panel,
  ThresholdsMode,
  type VariableModel,
} from '@grafana/schema';

/**
 * A Prometheus query: the schema's DataQuery fields plus the datasource's own. A type
 * literal, not an interface, so it also fits a panel's `Record<string, unknown>` targets.
 */
type PromQuery = Pick<DataQuery, 'refId' | 'hide'> & {
  datasource?: DataSourceRef;
  expr: string;
  legendFormat?: string;
  range?: boolean;
};

/** Prometheus annotations keep their formatting fields beside the query. */
interface PromAnnotation extends AnnotationQuery<PromQuery> {
  step: string;
  titleFormat: string;
  tagKeys: string;
  useValueForTime: boolean;
}

/** A query variable; Grafana keeps the query text it shows as `definition`. */
interface QueryVariable extends VariableModel {
  definition: string;
}

/** The provisioned datasource (`provisioning/datasources/prometheus.yml` has the same uid). */
export const datasource: DataSourceRef = { type: 'prometheus', uid: 'cascade-prometheus' };

export interface Query {
  expr: string;
  legend: string;
}

export interface PanelSpec {
  title: string;
  description: string;
  unit: string;
  queries: Query[];
  kind?: 'timeseries' | 'state-timeline';
  /** Value → text and colour, for state panels. */
  states?: Array<{ value: number; text: string; color: string }>;
  /** A dashed red line from this value up. */
  threshold?: number;
  /** Series (by legend) drawn on a right-hand axis with this unit. */
  rightAxis?: { legend: string; unit: string };
  /** Full width instead of half. */
  wide?: boolean;
}

const HALF = 12;
const HEIGHT = 8;

/** Lays panels out two to a row (a wide one takes the row), ids in order. */
function layout(specs: PanelSpec[]): Panel[] {
  let x = 0;
  let y = 0;
  return specs.map((spec, index) => {
    const w = spec.wide ? 24 : HALF;
    if (x + w > 24) {
      x = 0;
      y += HEIGHT;
    }
    const panel = toPanel(spec, index + 1, { x, y, w, h: HEIGHT });
    x += w;
    return panel;
  });
}

function toPanel(spec: PanelSpec, id: number, gridPos: Panel['gridPos']): Panel {
  const kind = spec.kind ?? 'timeseries';
  const overrides = spec.rightAxis
    ? [
        {
          matcher: { id: 'byName', options: spec.rightAxis.legend },
          properties: [
            { id: 'unit', value: spec.rightAxis.unit },
            { id: 'custom.axisPlacement', value: 'right' },
          ],
        },
      ]
    : [];
  return {
    id,
    type: kind,
    title: spec.title,
    description: spec.description,
    datasource,
    gridPos,
    targets: spec.queries.map((query, index): PromQuery => ({
      refId: String.fromCharCode(65 + index),
      datasource,
      expr: query.expr,
      legendFormat: query.legend,
      range: true,
    })),
    fieldConfig: {
      defaults: {
        unit: spec.unit,
        ...(spec.states
          ? {
              mappings: [
                {
                  type: MappingType.ValueToText,
                  options: Object.fromEntries(
                    spec.states.map((state) => [
                      String(state.value),
                      { text: state.text, color: state.color },
                    ]),
                  ),
                },
              ],
            }
          : {}),
        ...(spec.threshold !== undefined
          ? {
              thresholds: {
                mode: ThresholdsMode.Absolute,
                steps: [
                  { value: null, color: 'green' },
                  { value: spec.threshold, color: 'red' },
                ],
              },
            }
          : {}),
        custom:
          kind === 'timeseries'
            ? {
                lineWidth: 2,
                fillOpacity: 8,
                spanNulls: false,
                ...(spec.threshold !== undefined ? { thresholdsStyle: { mode: 'dashed' } } : {}),
              }
            : { fillOpacity: 80, lineWidth: 0 },
      },
      overrides,
    },
    options:
      kind === 'timeseries'
        ? {
            legend: { displayMode: 'list', placement: 'bottom', showLegend: true },
            tooltip: { mode: 'multi', sort: 'desc' },
          }
        : { showValue: 'never', mergeValues: true, rowHeight: 0.8 },
  };
}

/** One annotation per kind while a timed fault is active on the downstream. */
const faultAnnotation: PromAnnotation = {
  name: 'Downstream faults',
  enable: true,
  iconColor: 'red',
  datasource,
  target: { refId: 'Anno', expr: 'max by (kind) (downstream_active_faults) > 0' },
  step: '2s',
  titleFormat: 'fault: {{kind}}',
  tagKeys: 'kind',
  useValueForTime: false,
};

/** The topic's subscribers (none on a plain queue: All matches the unlabelled series too). */
export const subscriberVariable: QueryVariable = {
  name: 'subscriber',
  label: 'subscriber',
  type: 'query',
  datasource,
  query: { query: 'label_values(worker_jobs_total, subscriber)', refId: 'Vars' },
  definition: 'label_values(worker_jobs_total, subscriber)',
  refresh: 2,
  multi: true,
  includeAll: true,
  allValue: '.*',
  current: { text: 'All', value: '$__all' },
  sort: 1,
};

export const workerInstance: QueryVariable = {
  name: 'instance',
  label: 'worker',
  type: 'query',
  datasource,
  query: { query: 'label_values(worker_active_jobs, instance)', refId: 'Vars' },
  definition: 'label_values(worker_active_jobs, instance)',
  refresh: 2,
  multi: true,
  includeAll: true,
  allValue: '.*',
  current: { text: 'All', value: '$__all' },
  sort: 1,
};

export function dashboard(
  uid: string,
  title: string,
  description: string,
  specs: PanelSpec[],
  extra: Partial<Dashboard> = {},
): Dashboard {
  return {
    uid,
    title,
    description,
    tags: ['cascade-lab'],
    editable: false,
    graphTooltip: 1,
    refresh: '5s',
    time: { from: 'now-15m', to: 'now' },
    timepicker: { refresh_intervals: ['2s', '5s', '10s', '30s', '1m'] },
    timezone: 'browser',
    schemaVersion: 39,
    version: 1,
    links: [
      {
        title: 'cascade-lab',
        type: 'dashboards',
        tags: ['cascade-lab'],
        asDropdown: false,
        icon: 'external link',
        includeVars: false,
        keepTime: true,
        targetBlank: false,
        tooltip: '',
        url: '',
      },
    ],
    annotations: { list: [faultAnnotation] },
    panels: layout(specs),
    ...extra,
  };
}

export const paths = (expr: string, legend = '{{path}}'): Query => ({ expr, legend });

export const breakerStates = [
  { value: 0, text: 'closed', color: 'green' },
  { value: 1, text: 'half-open', color: 'orange' },
  { value: 2, text: 'open', color: 'red' },
];

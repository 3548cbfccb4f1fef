/**
 * The dashboards and the Prometheus rules, packaged for Kubernetes: Kustomize reads files
 * only below a kustomization, so deploy/k8s holds generated copies. `npm run dashboards`
 * writes them; a test fails when a copy and its source disagree.
 *
 * - components/grafana-dashboards/dashboards/*.json: each dashboard, its datasource the
 *   one kube-prometheus-stack provisions (uid `prometheus`) instead of compose's;
 * - components/prometheus-operator/prometheus-rule.yaml: a PrometheusRule holding the
 *   recording and alerting rules of dashboards/prometheus/rules.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { dashboards, datasource } from './grafana/generate.ts';

const repo = fileURLToPath(new URL('..', import.meta.url));

/** The uid of the Prometheus datasource kube-prometheus-stack's Grafana is given. */
export const kubePrometheusDatasourceUid = 'prometheus';

const ruleFiles = ['recording.yml', 'alerts.yml'];
const ruleHeader = `# Generated from dashboards/prometheus/rules by \`npm run dashboards\`: do not edit.
# The recording rules the dashboards read, and the alerts, for prometheus-operator; the
# label \`release\` is what kube-prometheus-stack selects rules by (as the ServiceMonitor).
`;

/**
 * Every generated file: its path under the repository, and what it holds (a dashboard's
 * JSON, or the PrometheusRule); tests compare these with the committed files' contents.
 */
export function kubernetesFiles(): Record<string, unknown> {
  const files: Record<string, unknown> = {};
  for (const [file, board] of Object.entries(dashboards))
    files[`deploy/k8s/components/grafana-dashboards/dashboards/${file}`] = JSON.parse(
      JSON.stringify(board).replaceAll(
        `"uid":${JSON.stringify(datasource.uid)}`,
        `"uid":${JSON.stringify(kubePrometheusDatasourceUid)}`,
      ),
    );
  const groups = ruleFiles.flatMap(
    (file) =>
      (
        parse(readFileSync(path.join(repo, 'dashboards/prometheus/rules', file), 'utf8')) as {
          groups: unknown[];
        }
      ).groups,
  );
  files['deploy/k8s/components/prometheus-operator/prometheus-rule.yaml'] = {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PrometheusRule',
    metadata: { name: 'cascade-lab', labels: { release: 'kube-prometheus-stack' } },
    spec: { groups },
  };
  return files;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const files = kubernetesFiles();
  for (const [file, value] of Object.entries(files))
    writeFileSync(
      path.join(repo, file),
      file.endsWith('.json')
        ? `${JSON.stringify(value, null, 2)}\n`
        : `${ruleHeader}${stringify(value, { lineWidth: 0 })}`,
    );
  process.stdout.write(`wrote ${Object.keys(files).join(', ')}\n`);
}

/** One validation problem, in the shape ajv and TypeBox both produce. */
export interface SchemaIssue {
  keyword: string;
  instancePath: string;
  schemaPath?: string;
  message?: string | undefined;
  params?: Record<string, unknown>;
}

/** Turns `/runs/1/policy` into `runs[1].policy`. */
export function toDottedPath(instancePath: string, root = ''): string {
  let path = root;
  for (const segment of instancePath.split('/').slice(1)) {
    const key = segment.replace(/~1/g, '/').replace(/~0/g, '~');
    path += /^\d+$/.test(key) ? `[${key}]` : path === '' ? key : `.${key}`;
  }
  return path;
}

/** ajv names one field per issue, TypeBox a list: either way, one line per field. */
function fieldsOf(single: unknown, list: unknown): string[] {
  if (typeof single === 'string') return [single];
  return Array.isArray(list) ? list.filter((item): item is string => typeof item === 'string') : [];
}

function describe(issue: SchemaIssue): string[] {
  const params = issue.params ?? {};
  switch (issue.keyword) {
    case 'additionalProperties':
      return fieldsOf(params.additionalProperty, params.additionalProperties).map(
        (field) => `unknown field "${field}"`,
      );
    case 'required':
      return fieldsOf(params.missingProperty, params.requiredProperties).map(
        (field) => `missing required field "${field}"`,
      );
    default:
      return [describeValue(issue)];
  }
}

function describeValue(issue: SchemaIssue): string {
  const params = issue.params ?? {};
  switch (issue.keyword) {
    case 'enum':
      return `must be one of ${(params.allowedValues as unknown[]).map(String).join(', ')}`;
    default:
      return issue.message ?? issue.keyword;
  }
}

/**
 * Formats validation issues as one line per problem, `path: what is wrong`.
 * Union branches (`anyOf` and its children) collapse into one line per path so a
 * user sees "must be one of …", not every branch that failed.
 */
export function formatIssues(issues: Iterable<SchemaIssue>, root = ''): string[] {
  const lines: string[] = [];
  const seen = new Set<string>();
  const anyOfPaths = new Set<string>();
  const list = [...issues];
  for (const issue of list) if (issue.keyword === 'anyOf') anyOfPaths.add(issue.instancePath);
  for (const issue of list) {
    // TypeBox also reports each unknown field as "schema is false"; the additionalProperties issue says it better.
    if (issue.keyword === 'boolean' && issue.schemaPath?.endsWith('additionalProperties')) continue;
    const isObjectShape = issue.keyword === 'required' || issue.keyword === 'additionalProperties';
    const path = toDottedPath(issue.instancePath, root) || '(root)';
    let texts: string[];
    if (anyOfPaths.has(issue.instancePath) && !isObjectShape) {
      if (issue.keyword !== 'anyOf') continue;
      texts = ['has an invalid value'];
    } else {
      texts = describe(issue);
    }
    for (const text of texts) {
      const line = `${path}: ${text}`;
      if (!seen.has(line)) {
        seen.add(line);
        lines.push(line);
      }
    }
  }
  return lines;
}

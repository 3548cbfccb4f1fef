import { randomUUID } from 'node:crypto';
import { type Static, Type } from 'typebox';

/**
 * Any HTTP endpoint as a load target: the request each arrival sends, and which statuses
 * count as ok. `path`, header values and `body` are templates: `{{index}}` is the request's
 * number in the run, `{{id}}` a unique id (`<run>-<index>`), `{{uuid}}` a random UUID.
 */
export const HttpRequestSpec = Type.Object(
  {
    /** @defaultValue GET */
    method: Type.Optional(Type.Enum(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'])),
    /** Path and query on the target's origin, e.g. `/orders/{{index}}?fields=id`. @defaultValue / */
    path: Type.Optional(Type.String({ pattern: '^/[^\\s]*$', maxLength: 2048 })),
    headers: Type.Optional(
      Type.Record(
        Type.String({ pattern: "^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,128}$" }),
        // No CR or LF: the generator writes each header as a line of its own.
        Type.String({ pattern: '^[^\\r\\n]*$', maxLength: 4096 }),
      ),
    ),
    body: Type.Optional(Type.String({ maxLength: 65_536 })),
    /** Statuses that count as ok; unset: every 2xx. */
    okStatuses: Type.Optional(
      Type.Array(Type.Integer({ minimum: 100, maximum: 599 }), { minItems: 1, maxItems: 100 }),
    ),
  },
  { additionalProperties: false },
);
export type HttpRequestSpec = Static<typeof HttpRequestSpec>;

type Part = string | ((index: number) => string);

/** A template as parts, so a request costs a join, not a regex per placeholder. */
function compile(template: string, idPrefix: string): (index: number) => string {
  const parts: Part[] = [];
  let rest = template;
  for (;;) {
    const match = /\{\{(index|id|uuid)\}\}/.exec(rest);
    if (!match) break;
    if (match.index > 0) parts.push(rest.slice(0, match.index));
    const name = match[1];
    parts.push(
      name === 'index'
        ? (index) => String(index)
        : name === 'id'
          ? (index) => `${idPrefix}-${index}`
          : () => randomUUID(),
    );
    rest = rest.slice(match.index + match[0].length);
  }
  if (rest !== '') parts.push(rest);
  if (parts.every((part) => typeof part === 'string')) {
    const fixed = parts.join('');
    return () => fixed;
  }
  return (index) => parts.map((part) => (typeof part === 'string' ? part : part(index))).join('');
}

/** Headers that frame the message: the generator writes them from the body it sends. */
const framingHeaders = new Set(['content-length', 'transfer-encoding', 'connection']);

export interface HttpRequestPlan {
  method: NonNullable<HttpRequestSpec['method']>;
  path: (index: number) => string;
  /** The headers as the lines of a request's head (`name: value\r\n` each). */
  headerLines: (index: number) => string;
  /** The scenario gives its own `host` header (the generator then writes none). */
  hasHost: boolean;
  body: ((index: number) => string) | undefined;
  isOk: (status: number) => boolean;
}

/**
 * What the schema cannot say of a request that passed it, one line each under `path`: a
 * header that frames the message is the generator's to write. Checked where a scenario or
 * `load`'s flags are read, and again before a run builds its requests. `path` '': the
 * request itself.
 */
export function requestProblems(spec: HttpRequestSpec, path = 'request'): string[] {
  return Object.keys(spec.headers ?? {})
    .filter((name) => framingHeaders.has(name.toLowerCase()))
    .map(
      (name) =>
        `${path ? `${path}.` : ''}headers.${name}: set by the generator from the body it sends, not by the scenario`,
    );
}

/** What each arrival sends, compiled once for a run. */
export function planHttpRequests(spec: HttpRequestSpec, idPrefix: string): HttpRequestPlan {
  const problems = requestProblems(spec);
  if (problems.length > 0) throw new Error(problems.join('; '));
  const path = compile(spec.path ?? '/', idPrefix);
  const headerTemplates = Object.entries(spec.headers ?? {}).map(
    ([name, value]) => [name.toLowerCase(), compile(value, idPrefix)] as const,
  );
  const body = spec.body === undefined ? undefined : compile(spec.body, idPrefix);
  const ok = spec.okStatuses ? new Set(spec.okStatuses) : undefined;
  return {
    method: spec.method ?? 'GET',
    path,
    hasHost: headerTemplates.some(([name]) => name === 'host'),
    headerLines: (index) =>
      headerTemplates.map(([name, value]) => `${name}: ${value(index)}\r\n`).join(''),
    body,
    isOk: ok ? (status) => ok.has(status) : (status) => status >= 200 && status < 300,
  };
}

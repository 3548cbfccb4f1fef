import { type Static, type TObject, type TPartial, Type } from 'typebox';
import Value from 'typebox/value';

/** The value a schema's `default`s make, frozen: defaults are written once, in the schema. */
export function defaultsOf<T extends TObject>(schema: T): Static<T> {
  return deepFreeze(Value.Create(schema));
}

function deepFreeze<V>(value: V): V {
  if (value !== null && typeof value === 'object') {
    for (const nested of Object.values(value)) deepFreeze(nested);
    Object.freeze(value);
  }
  return value;
}

/**
 * A copy of a schema without any `default`. Update (PATCH-like) schemas need it:
 * Fastify's ajv fills defaults in, which would silently reset every field a
 * partial update leaves out.
 */
export function withoutDefaults<T>(schema: T): T {
  if (Array.isArray(schema)) return schema.map((item: unknown) => withoutDefaults(item)) as T;
  if (schema === null || typeof schema !== 'object') return schema;
  const copy: Record<string, unknown> = {};
  // Keep TypeBox's non-enumerable markers (`~kind`) non-enumerable: ajv must not see them.
  for (const [key, descriptor] of Object.entries(Object.getOwnPropertyDescriptors(schema))) {
    if (key === 'default') continue;
    Object.defineProperty(copy, key, { ...descriptor, value: withoutDefaults(descriptor.value) });
  }
  return copy as T;
}

/**
 * Every field optional, no defaults filled in, unknown fields still rejected
 * (TypeBox 1.x drops `additionalProperties` on Partial).
 */
export function strictPartial<T extends TObject>(schema: T): TPartial<T> {
  return withoutDefaults(Type.Partial(schema, { additionalProperties: false }));
}

interface TaggedVariant {
  properties?: Record<string, { const?: unknown }>;
}

/**
 * Problems of a value against a union discriminated by `tag` (e.g. `kind`), checked
 * against the one variant its tag names, so a user reads what that variant needs,
 * not what every other variant would have wanted.
 */
export function taggedUnionProblems(
  union: { anyOf: readonly unknown[] },
  value: unknown,
  tag: string,
  path: string,
  problemsOf: (variant: TaggedVariant, value: unknown, path: string) => string[],
): string[] {
  const variants = union.anyOf as readonly TaggedVariant[];
  const tags = variants.map((variant) => variant.properties?.[tag]?.const);
  const given =
    typeof value === 'object' && value !== null
      ? (value as Record<string, unknown>)[tag]
      : undefined;
  const variant = variants[tags.indexOf(given)];
  if (variant === undefined) {
    return [
      `${path}.${tag}: must be one of ${tags.map(String).join(', ')}${given === undefined ? '' : ` (got ${JSON.stringify(given)})`}`,
    ];
  }
  return problemsOf(variant, value, path);
}

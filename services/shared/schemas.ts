import { type TObject, type TPartial, Type } from 'typebox';

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

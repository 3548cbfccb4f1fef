import { type TObject, type TPartial, Type } from 'typebox';

/** `Type.Partial` that still rejects unknown fields (TypeBox 1.x drops `additionalProperties` on Partial). */
export function strictPartial<T extends TObject>(schema: T): TPartial<T> {
  return Type.Partial(schema, { additionalProperties: false });
}

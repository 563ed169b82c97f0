import { type SchemaOptions, type TLiteral, type TUnion, Type } from '@sinclair/typebox';

/**
 * The TypeBox schema of one of a list's values: a union of its literals, in the list's order
 * (so the JSON Schema reads as if spelled by hand). Schemas of the vocabulary in src/domain/
 * are made with it, so that a list is spelled once.
 */
export function literalUnion<T extends string>(
  values: readonly T[],
  options: SchemaOptions = {},
): TUnion<TLiteral<T>[]> {
  return Type.Union(
    values.map((v) => Type.Literal(v)),
    options,
  ) as unknown as TUnion<TLiteral<T>[]>;
}

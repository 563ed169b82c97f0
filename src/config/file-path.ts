import { isAbsolute, resolve } from 'node:path';
import { type StringOptions, type TSchema, type TString, Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

/**
 * A string field holding a file path. The `filePath` mark tells {@link resolveFilePaths} to
 * resolve it against the config file's folder; validators ignore the unknown keyword.
 */
export function FilePath(options: StringOptions = {}): TString {
  return Type.String({ minLength: 1, ...options, filePath: true });
}

/** True for a schema made by {@link FilePath}. */
export function isFilePath(schema: TSchema): boolean {
  return (schema as { filePath?: unknown }).filePath === true && schema.type === 'string';
}

/**
 * Makes every relative path in `value` absolute against `baseDir`, in place, by walking the
 * schema and the value together: object properties (optional or not), array items, the variant
 * of a union (anyOf) that the value matches, and every part of an intersection (allOf).
 * `value` must already be valid against `schema`. Returns `value` (for a path field, the resolved
 * path).
 */
export function resolveFilePaths(schema: TSchema, value: unknown, baseDir: string): unknown {
  if (isFilePath(schema))
    return typeof value === 'string' && !isAbsolute(value) ? resolve(baseDir, value) : value;
  const s = schema as {
    properties?: Record<string, TSchema>;
    items?: TSchema;
    anyOf?: TSchema[];
    allOf?: TSchema[];
  };
  if (s.anyOf) {
    const variant = s.anyOf.find((v) => Value.Check(v, value));
    return variant ? resolveFilePaths(variant, value, baseDir) : value;
  }
  if (s.allOf) return s.allOf.reduce((v, part) => resolveFilePaths(part, v, baseDir), value);
  if (s.items && Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = resolveFilePaths(s.items, value[i], baseDir);
    return value;
  }
  if (s.properties && typeof value === 'object' && value !== null) {
    const o = value as Record<string, unknown>;
    for (const [key, sub] of Object.entries(s.properties))
      if (o[key] !== undefined) o[key] = resolveFilePaths(sub, o[key], baseDir);
  }
  return value;
}

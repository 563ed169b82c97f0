import {
  type SchemaOptions,
  type Static,
  type TObject,
  type TProperties,
  type TString,
  type TUnion,
  Type,
} from '@sinclair/typebox';
import { FilePath } from './file-path.js';

/**
 * An environment variable's name (POSIX: letters, digits, underscore; not a digit first). A
 * value that is not a name (a secret pasted where its variable's name belongs) fails the schema,
 * and messages never repeat it.
 */
export const ENV_NAME_PATTERN = '^[A-Za-z_][A-Za-z0-9_]{0,127}$';

/**
 * How every secret in the configuration is given: exactly one of `{ "file": path }` (owner-only,
 * mode 0600; relative to the config file) or `{ "env": "VAR_NAME" }`. Never inline: a secret in
 * the config file ends up in backups and tickets. `extra` adds members to both variants (a data
 * key's `id`); `options` (a `description`) apply to the union. The `secretRef` mark lets the
 * loader explain a mismatch ("give exactly one of …") and the configuration reference name the
 * type once.
 */
export function secretRefWith<P extends TProperties>(
  extra: P,
  options: SchemaOptions = {},
): TUnion<[TObject<P & { file: TString }>, TObject<P & { env: TString }>]> {
  return Type.Union(
    [
      Type.Object(
        { ...extra, file: FilePath({ description: 'File holding the secret, mode 0600.' }) },
        { additionalProperties: false },
      ),
      Type.Object(
        {
          ...extra,
          env: Type.String({
            pattern: ENV_NAME_PATTERN,
            description: 'Environment variable holding the secret (its name).',
          }),
        },
        { additionalProperties: false },
      ),
    ],
    { ...options, secretRef: true },
  );
}

/** A secret by file or environment variable; see {@link secretRefWith}. */
export function SecretRef(
  options: SchemaOptions = {},
): TUnion<[TObject<{ file: TString }>, TObject<{ env: TString }>]> {
  return secretRefWith({}, options);
}
export type SecretRef = Static<ReturnType<typeof SecretRef>>;

/** The hint given when a value matches neither variant. */
export const SECRET_REF_HINT = 'give exactly one of "file": "<path>" or "env": "<VAR_NAME>"';

/** True for a schema made by {@link secretRefWith}. */
export function isSecretRefSchema(schema: unknown): boolean {
  return (schema as { secretRef?: unknown } | null)?.secretRef === true;
}

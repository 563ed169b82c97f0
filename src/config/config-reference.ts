import type { TSchema } from '@sinclair/typebox';
import { ConfigSchema } from './config-schema.js';
import { isFilePath } from './file-path.js';
import { isSecretRefSchema, SecretRef } from './secret-ref.js';

/** One row of the configuration reference: a field of {@link ConfigSchema}, as documented. */
export interface ConfigField {
  /** The top-level key it is under; '' for a top-level field that is not a section. */
  section: string;
  /** `listen.port`; `[]` is an array item; `(type "webhook")` one variant of a union. */
  path: string;
  type: string;
  /** The default as JSON, or "required" / "optional" when there is none. */
  default: string;
  constraints: string;
  description: string;
  /** Holds a value rather than further fields (a secret reference is one value). */
  leaf: boolean;
}

interface Schema {
  type?: string;
  const?: unknown;
  default?: unknown;
  description?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  anyOf?: Schema[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  minItems?: number;
  maxItems?: number;
}

const SCALARS = new Set(['string', 'integer', 'number', 'boolean']);
/** Property sets at least this large whose schemas are all alike are shown once, as `<key>`. */
const SAME_SHAPE_AT = 5;

const isEnum = (s: Schema) => s.anyOf?.every((v) => v.const !== undefined) === true;
const isObjectUnion = (s: Schema) =>
  s.anyOf !== undefined && !isSecretRefSchema(s) && s.anyOf.every((v) => v.type === 'object');
const code = (v: unknown) => `\`${JSON.stringify(v)}\``;
const same = (a: Schema, b: Schema) => JSON.stringify(a) === JSON.stringify(b);

/** Members of a secret reference besides `file`/`env` (a data key's `id`), as an object. */
function secretExtras(s: Schema): Schema | undefined {
  const variant = s.anyOf![0]!;
  const keys = Object.keys(variant.properties ?? {}).filter((k) => k !== 'file' && k !== 'env');
  if (keys.length === 0) return undefined;
  return {
    type: 'object',
    properties: Object.fromEntries(keys.map((k) => [k, variant.properties![k]!])),
    required: variant.required?.filter((k) => keys.includes(k)),
  };
}

/** The type column of a value schema, or undefined when `s` holds fields. */
function valueType(s: Schema): string | undefined {
  if (isSecretRefSchema(s)) return secretExtras(s) ? undefined : 'secret reference';
  if (isFilePath(s as TSchema)) return 'file path (relative to the config file)';
  if (s.const !== undefined) return code(s.const);
  if (isEnum(s)) return s.anyOf!.map((v) => code(v.const)).join(' | ');
  if (s.type !== undefined && SCALARS.has(s.type)) return s.type;
  if (s.type === 'array') {
    const item = valueType(s.items!);
    return item === undefined ? undefined : `array of ${isEnum(s.items!) ? `(${item})` : item}`;
  }
  return undefined;
}

function range(min: number | undefined, max: number | undefined, unit = ''): string | undefined {
  if (min !== undefined && max !== undefined) return `${min}–${max}${unit}`;
  if (min !== undefined) return `≥ ${min}${unit}`;
  if (max !== undefined) return `≤ ${max}${unit}`;
  return undefined;
}

function constraints(s: Schema): string[] {
  const out: string[] = [];
  const value = range(s.minimum, s.maximum);
  if (value) out.push(value);
  // Every file path is non-empty: saying so on each would be noise.
  const length = range(isFilePath(s as TSchema) ? undefined : s.minLength, s.maxLength);
  if (length) out.push(`length ${length}`);
  if (s.pattern !== undefined) out.push(`pattern \`${s.pattern}\``);
  const items = range(s.minItems, s.maxItems, ' items');
  if (items) out.push(items.replace(/^(≥ 1) items$/, '$1 item'));
  if (s.type === 'array' && s.items && valueType(s.items) !== undefined) {
    const each = constraints(s.items);
    if (each.length > 0) out.push(`each: ${each.join(', ')}`);
  }
  return out;
}

function presence(s: Schema, optional: boolean): string {
  if (s.default !== undefined) return code(s.default);
  return optional ? 'optional' : 'required';
}

/**
 * Every field of {@link ConfigSchema}, in schema order, as the reference shows it: object and
 * array fields first, then their members. Throws on a schema shape the reference cannot show,
 * so that no field goes undocumented in silence.
 */
export function configFields(schema: TSchema = ConfigSchema): ConfigField[] {
  const out: ConfigField[] = [];
  const root = schema as Schema;
  for (const [key, sub] of Object.entries(root.properties ?? {})) {
    const section = valueType(sub) === undefined ? key : '';
    field(out, section, key, sub, !(root.required ?? []).includes(key));
  }
  return out;
}

function field(
  out: ConfigField[],
  section: string,
  path: string,
  s: Schema,
  optional: boolean,
): void {
  const type = valueType(s);
  const shown =
    type ??
    (isSecretRefSchema(s)
      ? 'secret reference'
      : s.type === 'array'
        ? isSecretRefSchema(s.items!)
          ? 'array of secret reference'
          : 'array of object'
        : s.type === 'object' || isObjectUnion(s)
          ? 'object'
          : undefined);
  if (shown === undefined) throw new Error(`config reference: cannot show the schema of ${path}`);
  out.push({
    section,
    path,
    type: shown,
    default: presence(s, optional),
    constraints: constraints(s).join(', '),
    description: s.description ?? '',
    leaf: type !== undefined,
  });
  if (type === undefined) {
    if (s.type === 'array') members(out, section, `${path}[]`, s.items!);
    else members(out, section, path, s);
  }
}

/** The members of an object (or of a union of objects, or a secret reference's extras) at `at`. */
function members(out: ConfigField[], section: string, at: string, s: Schema): void {
  if (isSecretRefSchema(s)) {
    members(out, section, at, secretExtras(s)!);
    return;
  }
  if (isObjectUnion(s)) {
    variants(out, section, at, s.anyOf!);
    return;
  }
  if (s.type !== 'object') throw new Error(`config reference: cannot show the members of ${at}`);
  const entries = Object.entries(s.properties ?? {});
  const optional = (k: string) => !(s.required ?? []).includes(k);
  const first = entries[0];
  if (first && entries.length >= SAME_SHAPE_AT && entries.every(([, v]) => same(v, first[1]))) {
    out.at(-1)!.constraints = [
      out.at(-1)!.constraints,
      `keys: ${entries.map(([k]) => k).join(', ')}`,
    ]
      .filter(Boolean)
      .join('; ');
    field(out, section, `${at}.<key>`, first[1], optional(first[0]));
    return;
  }
  for (const [k, sub] of entries) field(out, section, `${at}.${k}`, sub, optional(k));
}

/**
 * A union of objects told apart by their `type`: `type` once, listing each variant; the members
 * all variants share (same schema) once; then each variant's own members, as `at (type "x").m`.
 */
function variants(out: ConfigField[], section: string, at: string, list: Schema[]): void {
  const tags = list.map((v) => v.properties?.type);
  if (tags.some((t) => t?.const === undefined))
    throw new Error(`config reference: the variants of ${at} are not told apart by "type"`);
  out.push({
    section,
    path: `${at}.type`,
    type: tags.map((t) => code(t!.const)).join(' | '),
    default: 'required',
    constraints: '',
    description: tags.every((t) => t!.description)
      ? tags.map((t) => `${code(t!.const)}: ${t!.description}`).join(' ')
      : '',
    leaf: true,
  });
  const shared = Object.keys(list[0]!.properties!).filter(
    (k) =>
      k !== 'type' &&
      list.every(
        (v) =>
          v.properties?.[k] !== undefined &&
          same(v.properties[k], list[0]!.properties![k]!) &&
          (v.required ?? []).includes(k) === (list[0]!.required ?? []).includes(k),
      ),
  );
  const optional = (v: Schema, k: string) => !(v.required ?? []).includes(k);
  for (const k of shared)
    field(out, section, `${at}.${k}`, list[0]!.properties![k]!, optional(list[0]!, k));
  for (const v of list) {
    const own = Object.entries(v.properties!).filter(([k]) => k !== 'type' && !shared.includes(k));
    for (const [k, sub] of own)
      field(
        out,
        section,
        `${at} (type ${JSON.stringify(v.properties!.type!.const)}).${k}`,
        sub,
        optional(v, k),
      );
  }
}

const cell = (text: string) => text.replaceAll('|', '\\|');

function table(rows: ConfigField[]): string {
  const lines = ['| field | type | default | constraints | description |', '|---|---|---|---|---|'];
  for (const f of rows)
    lines.push(
      `| \`${f.path}\` | ${cell(f.type)} | ${cell(f.default)} | ${cell(f.constraints)} | ${cell(f.description)} |`,
    );
  return lines.join('\n');
}

/** The text of docs/configuration.md, generated from {@link ConfigSchema}. */
export function configReference(): string {
  const fields = configFields();
  const secret = SecretRef() as unknown as Schema;
  const [file, env] = secret.anyOf!.map((v) => Object.entries(v.properties!)[0]!) as [
    [string, Schema],
    [string, Schema],
  ];
  const parts = [
    '# Configuration reference',
    '<!-- Generated from the configuration schema (src/config/*-schema.ts): do not edit. ' +
      'Run `npm run docs:config` after changing the schema; a test fails while this file is stale. -->',
    '`ctp-notify serve --config FILE` reads one JSON file and checks it against this schema at start. ' +
      'A missing or wrong value stops the process with exit code 2 and a message naming the field as a ' +
      'JSON pointer, e.g. `config /listen/port: Expected integer`. Unknown fields are refused too.',
    [
      '- **field**: the path from the top of the file; `[]` is an array item; `(type "webhook")` marks ' +
        "the members of one variant, chosen by the object's `type`; `<key>` is any of the keys listed.",
      '- **default**: the value used when the field is left out; **required**: must be given (when the ' +
        'object holding it is); **optional**: may be left out, the description says with what effect.',
      '- **file path (relative to the config file)**: a relative path resolves against the config ' +
        "file's folder.",
      `- **secret reference**: exactly one of \`{ "${file[0]}": "…" }\` (${lower(file[1].description)}, ` +
        `relative to the config file) or \`{ "${env[0]}": "…" }\` (${lower(env[1].description)}). ` +
        'Never the secret itself: a secret in the config file ends up in backups and tickets.',
    ].join('\n'),
  ];
  const general = fields.filter((f) => f.section === '');
  if (general.length > 0) parts.push('## Top-level fields', table(general));
  for (const section of new Set(fields.map((f) => f.section).filter(Boolean))) {
    const [head, ...rows] = fields.filter((f) => f.section === section);
    const note =
      head!.default === 'required'
        ? 'Required.'
        : head!.default === 'optional'
          ? 'Optional.'
          : head!.default === '`{}`'
            ? 'May be left out.'
            : `Default: ${head!.default}.`;
    parts.push(
      `## \`${section}\``,
      [head!.description, note].filter(Boolean).join(' '),
      table(rows),
    );
  }
  return `${parts.join('\n\n')}\n`;
}

const lower = (text = '') => (text.charAt(0).toLowerCase() + text.slice(1)).replace(/\.$/, '');

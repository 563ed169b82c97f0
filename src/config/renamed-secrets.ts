import { ConfigError } from '../errors.js';
import { ENV_NAME_PATTERN } from './secret-ref.js';

/** One old spelling found: where, and what to write instead. */
interface Renamed {
  field: string;
  message: string;
}

const INLINE =
  'inline secrets are no longer accepted (they end up in backups and tickets): put the secret in a file (mode 0600) or';

/**
 * Refuses the secret spellings of earlier versions (`sharedSecretFile`, `sharedSecretEnv`, inline
 * `sharedSecret`, `secretsFile`, `secretsEnv`, inline `secrets`, `passwordFile`, `passwordEnv`),
 * saying exactly what to write instead. Runs before schema validation so the user sees this
 * rather than "unknown property". Paths and variable names are repeated; secret values never.
 * @throws ConfigError naming the first old field (and up to four more in the message).
 */
export function checkRenamedSecrets(input: unknown): void {
  const found: Renamed[] = [];
  const xpt = member(member(input, 'auth'), 'xPayToken');
  if (isObject(xpt)) {
    const at = '/auth/xPayToken';
    renamed(
      found,
      xpt,
      at,
      'sharedSecretFile',
      (v) => `"sharedSecret": { "file": ${quoted(v, '<path>')} }`,
    );
    renamed(
      found,
      xpt,
      at,
      'sharedSecretEnv',
      (v) => `"sharedSecret": { "env": ${quoted(v, '<VAR_NAME>')} }`,
    );
    if (typeof xpt.sharedSecret === 'string') {
      found.push({
        field: `${at}/sharedSecret`,
        message: `${INLINE} a variable, and write "sharedSecret": { "file": "<path>" } or "sharedSecret": { "env": "<VAR_NAME>" }`,
      });
    }
  }
  const sinks = member(input, 'sinks');
  if (Array.isArray(sinks)) {
    sinks.forEach((sink: unknown, i) => {
      if (!isObject(sink)) return;
      const at = `/sinks/${i}`;
      renamed(
        found,
        sink,
        at,
        'secretsFile',
        (v) => `"secrets": [{ "file": ${quoted(v, '<path>')} }]`,
        'the file still holds one secret per line',
      );
      renamed(
        found,
        sink,
        at,
        'secretsEnv',
        (v) => `"secrets": [{ "env": ${quoted(v, '<VAR_NAME>')} }]`,
        'the variable still holds them space-separated',
      );
      renamed(
        found,
        sink,
        at,
        'passwordFile',
        (v) => `"password": { "file": ${quoted(v, '<path>')} }`,
      );
      renamed(
        found,
        sink,
        at,
        'passwordEnv',
        (v) => `"password": { "env": ${quoted(v, '<VAR_NAME>')} }`,
      );
      if (Array.isArray(sink.secrets)) {
        sink.secrets.forEach((s: unknown, j) => {
          if (typeof s !== 'string') return;
          found.push({
            field: `${at}/secrets/${j}`,
            message: `${INLINE} a variable, and write { "file": "<path>" } or { "env": "<VAR_NAME>" } in its place`,
          });
        });
      }
    });
  }
  const [first, ...rest] = found.slice(0, 5);
  if (first === undefined) return;
  throw new ConfigError(
    first.field,
    `${first.message}${rest.map((r) => `; config ${r.field}: ${r.message}`).join('')}`,
  );
}

function renamed(
  found: Renamed[],
  o: Record<string, unknown>,
  at: string,
  key: string,
  write: (value: unknown) => string,
  note?: string,
): void {
  if (key in o)
    found.push({
      field: `${at}/${key}`,
      message: `renamed: write ${write(o[key])} instead${note ? ` (${note})` : ''}`,
    });
}

/**
 * A path or variable name as JSON, or `placeholder` when it is not a string (it was invalid
 * anyway).
 */
/**
 * The old value, quoted, when it is safe to repeat (a path, or a variable name for an `*Env`
 * field), else the placeholder: an old `*Env` field might hold a secret pasted by mistake.
 */
function quoted(value: unknown, placeholder: string): string {
  const safe =
    typeof value === 'string' &&
    value !== '' &&
    (placeholder !== '<VAR_NAME>' || new RegExp(ENV_NAME_PATTERN).test(value));
  return JSON.stringify(safe ? value : placeholder);
}

function member(o: unknown, key: string): unknown {
  return isObject(o) ? o[key] : undefined;
}

function isObject(o: unknown): o is Record<string, unknown> {
  return typeof o === 'object' && o !== null && !Array.isArray(o);
}
